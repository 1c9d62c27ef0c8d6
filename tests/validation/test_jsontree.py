"""The shared walk over a resource's JSON objects."""

from fhir_case.validation.jsontree import objects


def test_objects_come_in_document_order_with_their_paths() -> None:
    resource = {
        "resourceType": "Observation",
        "code": {"coding": [{"code": "a"}, "not an object", [{"code": "b"}]]},
        "valueQuantity": {"value": 1},
    }
    found = objects(resource)
    assert [path for path, _ in found] == [
        (),
        ("code",),
        ("code", "coding", 0),
        ("code", "coding", 2, 0),
        ("valueQuantity",),
    ]
    assert found[3][1] == {"code": "b"}
    assert found[0][1] is resource


def test_the_skipped_key_is_not_entered_and_a_list_may_be_the_root() -> None:
    bundle = {"entry": [{"fullUrl": "urn:x", "resource": {"id": "p"}}]}
    assert [path for path, _ in objects(bundle, skip="resource")] == [(), ("entry", 0)]
    assert [path for path, _ in objects([{"a": 1}, [{"b": 2}]])] == [(0,), (1, 0)]
    assert objects("text") == []


def test_hundreds_of_levels_are_walked() -> None:
    node: dict[str, object] = {"url": "x"}
    for _ in range(480):
        node = {"extension": [node]}
    assert len(objects(node)) == 481
