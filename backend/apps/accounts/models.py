from __future__ import annotations

import contextlib

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from apps.accounts.phone import InvalidPhone, normalize_phone

DELETED_PHONE_PREFIX = "deleted:"  # the phone of a deleted account: unique, never a phone (apps/accounts/personal_data.py)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, phone: str, password: str | None, **extra) -> User:
        if not phone:
            raise ValueError("A phone number is required")
        try:
            phone = normalize_phone(str(phone))
        except InvalidPhone as exc:
            raise ValueError(str(exc)) from exc
        email = extra.pop("email", None)
        user = self.model(phone=phone, email=self.normalize_email(email) or None, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, phone: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(phone, password, **extra)

    def create_superuser(self, phone: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("role", User.Role.MANAGER)
        if not extra["is_staff"] or not extra["is_superuser"]:
            raise ValueError("A superuser needs is_staff and is_superuser")
        return self._create(phone, password, **extra)

    def get_by_natural_key(self, username: str) -> User:
        with contextlib.suppress(InvalidPhone):
            username = normalize_phone(str(username))
        return self.get(phone=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person: customer, staff member or manager. The phone number (E.164) is the identifier."""

    class Role(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        STAFF = "staff", _("Staff")
        MANAGER = "manager", _("Manager")

    class Language(models.TextChoices):
        ARABIC = "ar", "العربية"
        ENGLISH = "en", "English"

    phone = PhoneNumberField(_("phone number"), unique=True, region="SA")
    name = models.CharField(_("name"), max_length=150, blank=True)
    email = models.EmailField(_("email"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.ARABIC)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.CUSTOMER)
    notify_sms = models.BooleanField(_("notify by SMS"), default=True)
    notify_whatsapp = models.BooleanField(_("notify by WhatsApp"), default=False)
    notify_email = models.BooleanField(_("notify by email"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("admin access"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
        ]

    def __str__(self) -> str:
        return f"{self.name or _('Unnamed')} ({self.phone})"

    def clean(self) -> None:
        super().clean()
        if self.email == "":
            self.email = None
        if self.email:
            self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_short_name(self) -> str:
        return self.name or str(self.phone)

    def get_full_name(self) -> str:
        return self.name

    @property
    def is_deleted(self) -> bool:
        """The person deleted their account (docs/privacy.md): the row stays, its phone a placeholder."""
        return str(self.phone).startswith(DELETED_PHONE_PREFIX)

    @property
    def is_manager(self) -> bool:
        return self.role == self.Role.MANAGER or self.is_superuser

    @property
    def is_staff_member(self) -> bool:
        return self.role == self.Role.STAFF


class OtpChallenge(models.Model):
    """One code sent to one phone, for one purpose. The code itself is never stored: it is derived from `nonce` with
    a secret. A login code never confirms a deletion and a deletion code never logs in (`purpose`)."""

    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        WHATSAPP = "whatsapp", "WhatsApp"

    class Delivery(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("May have been delivered")

    class Purpose(models.TextChoices):
        LOGIN = "login", _("Log in")
        DELETE_ACCOUNT = "delete_account", _("Delete the account")

    phone = models.CharField(max_length=20, db_index=True)
    purpose = models.CharField(
        max_length=16,
        choices=Purpose.choices,
        default=Purpose.LOGIN,
        help_text="What the code may do: log in, or confirm the deletion of the account it was sent for.",
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.SMS)
    nonce = models.CharField(max_length=64)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    client_key = models.CharField(
        max_length=64, blank=True, default="", help_text="The requester's network: IPv4 address, IPv6 /64, unknown."
    )
    trusted = models.BooleanField(default=False, help_text="Requested by a client recognised for this phone.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    consumed_at = models.DateTimeField(null=True, blank=True)
    invalidated_at = models.DateTimeField(null=True, blank=True)
    delivery_status = models.CharField(max_length=16, choices=Delivery.choices, default=Delivery.PENDING)
    delivery_attempts = models.PositiveSmallIntegerField(default=0)
    delivery_uncertain = models.PositiveSmallIntegerField(
        default=0, help_text="Sends that failed but may have delivered the code (read timeout, 500/502/504)."
    )
    delivery_error = models.CharField(max_length=255, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("login code")
        verbose_name_plural = _("login codes")
        indexes = [
            models.Index(fields=["phone", "-created_at"], name="otp_phone_created_idx"),
            models.Index(fields=["client_key", "created_at"], name="otp_client_created_idx"),
            models.Index(fields=["phone", "client_key", "-created_at"], name="otp_phone_client_created_idx"),
        ]

    def __str__(self) -> str:
        return f"OTP #{self.pk} ({self.channel})"

    @property
    def is_open(self) -> bool:
        return self.consumed_at is None and self.invalidated_at is None


class OtpVerifyAttempt(models.Model):
    """One check of a code: failures feed the daily cap and back-off, successes make a network recognised.

    `pool` is whose failure budget the check used: `untrusted` (every client not recognised for this phone, together),
    `device:<id>` (a device token issued at a login of this phone) or `net:<network>` (a network this phone logged
    in from).
    """

    phone = models.CharField(max_length=20)
    client_key = models.CharField(max_length=64)
    pool = models.CharField(max_length=80)
    succeeded = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("code check")
        verbose_name_plural = _("code checks")
        indexes = [
            models.Index(fields=["phone", "pool", "created_at"], name="otp_verify_pool_idx"),
            models.Index(fields=["phone", "client_key", "created_at"], name="otp_verify_client_idx"),
        ]

    def __str__(self) -> str:
        return f"{'ok' if self.succeeded else 'wrong'} code for {self.pool} at {self.created_at:%Y-%m-%d %H:%M}"
