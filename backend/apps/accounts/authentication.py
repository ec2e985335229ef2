"""API authentication: simplejwt's `JWTAuthentication`, with the user loaded by one query written once.

Every authenticated request loads its user (so that a deactivated account stops working at once, not when its
token runs out). simplejwt does that with `User.objects.get(id=...)`, and compiling that ORM query costs more
CPU than running it; on a booking, about a twentieth of the request's Python. Same query, same checks (the
user must exist and be active; the optional revoke-on-password-change claim), same errors.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Field
from django.utils.translation import gettext as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import get_md5_hash_password

from apps.accounts.models import User
from apps.core.rows import model_columns, model_from_row


def _id_field() -> Field[Any, Any]:
    field = User._meta.get_field(api_settings.USER_ID_FIELD)
    assert isinstance(field, Field)  # noqa: S101 - a column of the user table, as simplejwt requires
    return field


@cache
def _user_sql() -> str:
    column = _id_field().column
    return f'SELECT {model_columns(User, "u")} FROM "{User._meta.db_table}" u WHERE u."{column}" = %s'  # noqa: S608


def user_for_token(user_id: Any) -> User | None:
    """The user a token's `user_id` claim names, or None. One query."""
    try:
        value = _id_field().to_python(user_id)
    except ValidationError:
        return None
    with connection.cursor() as cursor:
        cursor.execute(_user_sql(), [value])
        row = cursor.fetchone()
    return None if row is None else model_from_row(User, row)


class JWTAuthentication(authentication.JWTAuthentication):
    # simplejwt annotates this with a TypeVar bound nowhere in its arguments (AuthUser), which no override can
    # satisfy; it returns a user model instance, as here.
    def get_user(self, validated_token: Token) -> User:  # type: ignore[override]
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as e:
            raise InvalidToken(_("Token contained no recognizable user identification")) from e
        user = user_for_token(user_id)
        if user is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(_("The user's password has been changed."), code="password_changed")
        return user


class JWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme (`jwtAuth`, bearer JWT) for this class too, as for simplejwt's."""

    target_class = "apps.accounts.authentication.JWTAuthentication"
