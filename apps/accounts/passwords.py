"""Django's hook for "this user's password has just changed".

``AbstractBaseUser.save()`` calls ``password_changed(password, user)`` of every validator in
``AUTH_PASSWORD_VALIDATORS`` after a new password is stored, whatever set it: the admin's
password form, ``manage.py changepassword``, the password-change views, a script's
``set_password()``. Listed there, :class:`RevokeTokensOnPasswordChange` revokes the user's
API tokens at that moment: a token issued against the old password must not survive it.
"""

from __future__ import annotations


class RevokeTokensOnPasswordChange:
    def validate(self, password, user=None) -> None:
        """Accepts every password (this is not a rule about passwords)."""

    def password_changed(self, password, user=None) -> None:
        if user is None or user.pk is None:
            return
        from apps.accounts.services import api_tokens_revoke_all

        api_tokens_revoke_all(user=user, actor=None, reason="password changed")

    def get_help_text(self) -> str:
        return "Changing your password revokes your API tokens."
