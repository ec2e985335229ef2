"""Sign in on the website: a phone number, then the one-time code (the same OTP service, limits and language as
the API's `/auth/otp/*`), then a Django session (HttpOnly, SameSite=Lax, Secure in production; the session key
is rotated at login). Sign out, and the language switch."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts import services as accounts
from apps.core.errors import DomainError
from apps.core.http import client_ip
from apps.web.forms import CodeForm, PhoneForm
from apps.web.throttling import check_throttle
from apps.web.views.common import DEVICE_COOKIE, cookie_secure, error_text, safe_next

LOGIN_PHONE = "login_phone"
LOGIN_CHANNEL = "login_channel"


@require_http_methods(["GET", "POST"])
def login_phone(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, reverse("web:my_bookings"))
    if request.user.is_authenticated and request.method == "GET":
        return redirect(next_url)
    form = PhoneForm(request.POST or None, initial={"phone": request.session.get(LOGIN_PHONE, "")})
    error, status = "", 200
    if request.method == "POST" and form.is_valid():
        phone, channel = form.cleaned_data["phone"], form.cleaned_data["channel"]
        try:
            check_throttle(request)
            accounts.otp_request(
                phone=phone,
                channel=channel,
                client_ip=client_ip(request),
                device_token=request.COOKIES.get(DEVICE_COOKIE) or None,
            )
        except DomainError as exc:
            error, status = error_text(exc), exc.status
        else:
            request.session[LOGIN_PHONE] = phone
            request.session[LOGIN_CHANNEL] = channel
            return redirect(f"{reverse('web:login_code')}?{urlencode({'next': next_url})}")  # a next with & intact
    if request.method == "POST" and not form.is_valid():
        status = 400
    return render(request, "web/login.html", {"form": form, "error": error, "next": next_url}, status=status)


@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, reverse("web:my_bookings"))
    phone = request.session.get(LOGIN_PHONE)
    if not phone:
        return redirect(f"{reverse('web:login')}?{urlencode({'next': next_url})}")
    form = CodeForm(request.POST or None)
    error, status = "", 200
    if request.method == "POST" and form.is_valid():
        try:
            check_throttle(request)
            checked = accounts.otp_check(
                phone=phone,
                code=form.cleaned_data["code"],
                client_ip=client_ip(request),
                device_token=request.COOKIES.get(DEVICE_COOKIE) or None,
                surface="web",
            )
        except DomainError as exc:
            error, status = error_text(exc), exc.status
        else:
            language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
            login(request, checked.user, backend="django.contrib.auth.backends.ModelBackend")  # rotates the key
            response = HttpResponseRedirect(next_url)
            response.set_cookie(
                DEVICE_COOKIE, checked.device_token, max_age=365 * 24 * 3600, httponly=True,
                samesite="Lax", secure=cookie_secure(),
            )
            if language in {"ar", "en"} and checked.user.language != language:
                accounts.user_update(user=checked.user, language=language)  # messages come in the site's language
            return response
    context = {"form": form, "error": error, "next": next_url, "phone": phone,
               "channel": request.session.get(LOGIN_CHANNEL, "sms")}
    if request.method == "POST" and not form.is_valid():
        status = 400
    return render(request, "web/login_code.html", context, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("web:home")


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """One tap: the other language, remembered in a cookie for a year (and, signed in, the person's own language,
    which their messages use)."""
    language = request.POST.get("language", "")
    response = HttpResponseRedirect(safe_next(request, "/"))
    if language not in {"ar", "en"}:
        return response
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE, httponly=True,
        samesite="Lax", secure=bool(getattr(settings, "LANGUAGE_COOKIE_SECURE", False)),
    )
    translation.activate(language)
    if request.user.is_authenticated and getattr(request.user, "language", language) != language:
        accounts.user_update(user=request.user, language=language)
    return response


@require_GET
def robots(request: HttpRequest) -> HttpResponse:
    return HttpResponse("User-agent: *\nDisallow: /my/\nDisallow: /calendar/\nDisallow: /feeds/\nDisallow: /login\n",
                        content_type="text/plain")
