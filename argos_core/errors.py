"""Domain exceptions. Entry points turn these into one-line messages or HTTP statuses."""


class ArgosError(Exception):
    """Base of every error a user can cause; its message is one sentence meant for people."""


class ConfigurationError(ArgosError):
    """Bad database URL, missing secret key, unsupported backend."""


class DatabaseUnavailable(ArgosError):
    """The database cannot be reached right now."""


class ValidationError(ArgosError):
    """Input that breaks a rule: empty or over-long names, bad roles, weak passwords."""


class NotFound(ArgosError):
    """The thing asked for does not exist, or lies outside the caller's scope."""


class UnknownOrgId(NotFound):
    def __init__(self, org_id: str) -> None:
        super().__init__(f"No tenant, company or branch has org id '{org_id}'.")
        self.org_id = org_id


class ScopeViolation(ArgosError):
    """The caller is not allowed to do this (outside their scope, or a viewer writing)."""


class DuplicateName(ArgosError):
    """A sibling with the same name, or a user with the same username, already exists."""


class AuthenticationFailed(ArgosError):
    """Wrong credentials, deactivated account, bad or revoked key or token."""


class Conflict(ArgosError):
    """The change is refused because of the state of the data (e.g. deleting a non-empty node)."""


class SessionEnded(AuthenticationFailed):
    """A console session that was revoked, expired, or whose account is gone or deactivated."""
