"""What a node holds, in words, as the delete confirmation and the services say it."""

from argos_core.services.org_contents import contents_phrase, counted


def test_only_what_is_there_is_named_in_singular_or_plural():
    assert contents_phrase(0, 0, 10) == "10 agents"
    assert contents_phrase(0, 1, 1) == "1 branch and 1 agent"
    assert contents_phrase(3, 9, 1200) == "3 companies, 9 branches and 1,200 agents"
    assert contents_phrase(0, 0, 0) == "nothing"
    assert counted(1, "company", "companies") == "1 company"
