"""``argos-admin``: the administration command line."""
