"""What the audit trail keeps of a command's arguments: the command's words, and the arguments with
personal data, passwords and free text masked."""

from __future__ import annotations

import pytest

from orderhub.cli.audit import command_words, masked_arguments


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["customer", "erase", "--email", "a@b.c"], ("customer", "erase")),
        (["credential", "list", "demo-reseller-1"], ("credential", "list")),
        (["demo-data", "--db", "sqlite:///x.db"], ("demo-data",)),
        (["migrate"], ("migrate",)),
        (["partner", "--help"], ("partner",)),
        (["business-unit", "add-offering", "GT"], ("business-unit", "add-offering")),
        ([], ()),
    ],
)
def test_a_command_is_named_by_its_group_and_command_words(argv: list[str], words: tuple[str, ...]) -> None:
    assert command_words(argv) == words


def test_e_mails_identity_numbers_and_a_urls_password_are_masked_and_the_rest_kept_as_a_shell_takes_it() -> None:
    shown = masked_arguments(
        ["--partner", "demo-co-acme", "--email", "Anna.Berg@Example.org", "--identity", "Passport", "QX7734491",
         "--db", "postgresql://orderhub:hunter2@db.internal:5432/orderhub", "--name", "Acme Travel AB"]
    )  # fmt: skip
    assert "hunter2" not in shown and "orderhub:" not in shown
    assert shown.startswith("--partner demo-co-acme --email 'A***@Example.org' --identity Passport '*******91' --db ")
    assert shown.endswith("@db.internal:5432/orderhub' --name 'Acme Travel AB'")


def test_a_swedish_identity_number_is_masked_wherever_it_stands() -> None:
    assert "19850709" not in masked_arguments(["--identity", "personalIdentityNumber", "19850709-3477"])
    assert "3477" not in masked_arguments(["order", "list", "--correlation-id", "198507093477"])


@pytest.mark.parametrize(
    "arguments",
    [["ord-1", "--reason", "Anna Berg moved abroad"], ["ord-1", "--reason=Anna Berg moved abroad"]],
)
def test_words_given_in_free_text_are_kept_as_their_length(arguments: list[str]) -> None:
    shown = masked_arguments(arguments)
    assert "Anna" not in shown and "Berg" not in shown
    assert "<22 characters>" in shown and shown.startswith(("ord-1 --reason", "ord-1 '--reason"))
