"""Named states keep the stored strings; addresses never appear in table keys."""

from switchboard.dal.contacts import AddressKeyedTable
from switchboard.models.states import DeliveryStatus, JobState, SendState


def test_job_states_are_the_stored_strings():
    # Given / When the enum's values / Then they are the strings records already hold
    assert [s.value for s in JobState] == ["RECEIVED", "PROCESSING", "PROCESSED", "FAILED"]


def test_send_states_are_the_stored_strings():
    expected = ["PENDING", "SENDING", "SENT", "RETRY", "REJECTED", "SUPPRESSED", "AMBIGUOUS", "FAILED"]
    assert [s.value for s in SendState] == expected


def test_delivery_statuses_compare_equal_to_the_providers_strings():
    assert DeliveryStatus.DELIVERED == "delivered" and f"{DeliveryStatus.FAILED}" == "failed"


def test_contact_and_suppression_keys_hold_no_address():
    # Given an address; When keyed; Then neither key contains it, and spelling variants share one key
    table = AddressKeyedTable("-")
    keys = [
        table.contact_key("Ann@Example.com")["pk"],
        table.suppression_key("email", "ann@example.com")["pk"],
    ]
    assert all("example" not in key.lower() and "@" not in key for key in keys)
    assert table.contact_key(" ann@example.com")["pk"] == table.contact_key("ANN@example.com")["pk"]
    assert "14155550123" not in table.suppression_key("sms", "+14155550123")["pk"]
