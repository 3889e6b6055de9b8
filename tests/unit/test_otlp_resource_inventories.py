"""OTLP resources' inventories are remembered by the resource's bytes, bounded, and a
resource without host identity is refused every time."""

from __future__ import annotations

import pytest
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from ingest_server.errors import ApiError
from ingest_server.otlp.resources import KEY_MAX_BYTES, ResourceInventories, host_inventory


def resource(**attributes: str) -> Resource:
    message = Resource()
    for key, value in attributes.items():
        message.attributes.add(key=key.replace("_", ".")).value.string_value = value
    return message


def test_the_same_resource_gives_the_same_inventory_without_reading_it_again():
    inventories = ResourceInventories()
    web = resource(host_name="web-01", os_description="Debian GNU/Linux 13 (trixie)")
    first = inventories.of(web, 0)
    assert first == host_inventory(web, 0)
    assert first.os == "Debian GNU/Linux 13 (trixie)"
    assert (
        inventories.of(
            resource(host_name="web-01", os_description="Debian GNU/Linux 13 (trixie)"), 1
        )
        is first
    )


def test_a_changed_resource_gives_its_new_inventory():
    inventories = ResourceInventories()
    inventories.of(resource(host_name="web-01", os_description="Debian 12"), 0)
    changed = inventories.of(resource(host_name="web-01", os_description="Debian 13"), 0)
    assert changed.os == "Debian 13"


def test_a_resource_without_host_is_refused_each_time_naming_its_index():
    inventories = ResourceInventories()
    for index in (0, 3):
        with pytest.raises(ApiError) as refused:
            inventories.of(resource(os_type="linux"), index)
        assert refused.value.status_code == 400
        assert f"Resource {index} names no host" in refused.value.message


def test_the_least_recently_used_resource_is_forgotten_beyond_the_bound():
    inventories = ResourceInventories(max_entries=2)
    a, b, c = (resource(host_name=name) for name in ("a", "b", "c"))
    first_a = inventories.of(a, 0)
    first_b = inventories.of(b, 0)
    assert inventories.of(a, 0) is first_a  # a is now the most recently used
    first_c = inventories.of(c, 0)  # b is forgotten
    assert inventories.of(a, 0) is first_a
    assert inventories.of(c, 0) is first_c
    again_b = inventories.of(b, 0)
    assert again_b == first_b and again_b is not first_b


def test_a_very_large_resource_is_read_each_time():
    inventories = ResourceInventories()
    large = resource(host_name="big", service_instance_id="x" * KEY_MAX_BYTES)
    first = inventories.of(large, 0)
    again = inventories.of(large, 0)
    assert again == first and again is not first
