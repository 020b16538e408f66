"""Profiles come from users.info once, then from the cache (memory, then database)."""

from bot.sandbox.sandbox import Sandbox
from bot.slack.people import People


def test_profile_is_fetched_once_and_shared_through_the_database(sandbox: Sandbox) -> None:
    sb = sandbox
    client = sb.app.client
    person = sb.deps.people.get(client, "U0BOB")
    assert (person.name, person.tz) == ("bob", "Pacific/Auckland")
    sb.deps.people.get(client, "U0BOB")
    People(sb.deps).get(client, "U0BOB")  # another replica: reads the database row
    assert len(sb.fake.calls_to("users.info")) == 1
    sb.deps.clock.advance(hours=13)  # type: ignore[attr-defined]
    sb.deps.people.get(client, "U0BOB")
    assert len(sb.fake.calls_to("users.info")) == 2


def test_unknown_and_deleted_people(sandbox: Sandbox) -> None:
    sb = sandbox
    sb.fake.add_user("U0GONE", "gone", deleted=True)
    assert sb.deps.people.get(sb.app.client, "U0GONE").deleted
    nobody = sb.deps.people.get(sb.app.client, "U0NOBODY")
    assert nobody.deleted and nobody.name == "U0NOBODY"
