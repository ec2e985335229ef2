"""Discovery: which listed businesses match a customer's search, nearest first, each with its price range and
its next available slot. Nothing here writes.

Queries for one page, whatever the number of businesses on the platform or on the page (`business_search`):

* the page                       1 query: `LIMIT page_size + 1` (the extra row says whether there is a next page)
* the count                      1 query, capped at `COUNT_CAP` (a search needs "about how many", not a scan)
* branches of the page           1 query
* price range + the service      1 query: per business, its active services' min/max price and the service
  its next slot is for, with the staff who can give it (`catalog.selectors.givers_sql`)
* next available                 2 queries: the schedules and the bookings of every one of those staff members,
                                 for every business of the page at once (`selectors.staff_schedules_many`),
                                 over today and tomorrow; 2 more for the rest of the week only when some
                                 business of the page had nothing free by then

How each filter finds its rows without reading every business (the indexes are in the models):

* `q`: every word (folded by `catalog.search.normalize`) is a substring of `Business.search_text` (names, slug,
  its services' names, its branches' names, cities and districts): a trigram GIN index.
* `city`: `Business.city_keys` (the keys of its branches' cities and of a home service's area) contains the
  key of the city asked for (`catalog.search.city_key`, so "Riyadh" finds "الرياض"): a GIN index.
* `category`: an equality on the business row.
* `service`: a substring of an active service's folded names (`Service.search_text`, trigram GIN index).
* `near`: the active branches inside a bounding box around the point (`radius_km`), from the (latitude,
  longitude) index; the distance is the haversine in SQL; a business is as near as its nearest branch.

Next available: for each business of the page, the first start at which its service (the first one matching
`service=`, else its shortest) can be booked with any of the staff who can give it, looking `NEXT_DAYS` local
days ahead (today included, within its booking window). It is exactly the first slot that
`GET /api/v1/businesses/SLUG/availability?service=ID&date=D` lists for the first date that has one: the same
loader and the same engine, the work of all the page's businesses loaded in two queries.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from django.db import connection
from django.utils import timezone

from apps.catalog.availability import SlotRules, first_slot_many
from apps.catalog.models import Branch, Business, Service
from apps.catalog.search import city_key, like_pattern, normalize
from apps.catalog.selectors import ScheduleRequest, givers_sql, slot_rules, staff_schedules_many
from apps.core.money import Money
from apps.core.rows import model_columns, model_from_row, model_width

PAGE_SIZE = 20
MAX_PAGE_SIZE = 50
COUNT_CAP = 1000  # `count` is exact up to here; beyond it the answer says "1000 or more"
MAX_PAGE = COUNT_CAP // PAGE_SIZE + 1
NEXT_DAYS = 7  # how far ahead the next available slot is looked for
_FIRST_ROUND_DAYS = 2  # looked at first (today and tomorrow), the rest only for businesses with nothing then
DEFAULT_RADIUS_KM = 50.0
MAX_RADIUS_KM = 1000.0
MAX_WORDS = 8  # words of `q` used (each is one more LIKE)
_EARTH_KM = 6371.0088


@dataclass(frozen=True, slots=True)
class Search:
    q: str = ""
    city: str = ""
    category: str = ""
    service: str = ""
    near: tuple[float, float] | None = None  # (latitude, longitude)
    radius_km: float = DEFAULT_RADIUS_KM
    page: int = 1
    page_size: int = PAGE_SIZE


@dataclass(frozen=True, slots=True)
class NextAvailable:
    start: datetime  # UTC
    service: Service
    staff_ids: list[int]  # those free then, ascending


@dataclass(slots=True)
class BusinessHit:
    business: Business
    branch: Branch | None  # the nearest active branch with `near`, else the first one in display order
    distance_km: float | None  # with `near`: to the nearest branch, rounded to 0.1 km
    price_min: Money | None = None
    price_max: Money | None = None
    next_available: NextAvailable | None = None
    branches: list[Branch] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SearchResult:
    hits: list[BusinessHit]
    count: int  # exact when `count_capped` is false, else at least COUNT_CAP
    count_capped: bool
    has_next: bool


# --- the page -----------------------------------------------------------------------------------------------


def _words(q: str) -> list[str]:
    return normalize(q).split()[:MAX_WORDS]


def _bounding_box(lat: float, lng: float, radius_km: float) -> tuple[float, float, float, float]:
    """(lat_lo, lat_hi, lng_lo, lng_hi) around the point: every point within `radius_km` is inside."""
    dlat = math.degrees(radius_km / _EARTH_KM)
    cos_lat = math.cos(math.radians(lat))
    dlng = 180.0 if cos_lat < 1e-6 else min(180.0, math.degrees(radius_km / (_EARTH_KM * cos_lat)))
    return lat - dlat, lat + dlat, lng - dlng, lng + dlng


def _filters(search: Search, params: dict[str, Any]) -> str:
    """The WHERE clause on the business `b` (values in `params`)."""
    where = ["b.is_active", "b.is_listed"]
    if search.category:
        params["category"] = search.category
        where.append("b.category = %(category)s")
    for i, word in enumerate(_words(search.q)):
        params[f"q{i}"] = like_pattern(word)
        where.append(f"b.search_text LIKE %(q{i})s")
    if search.city and (key := city_key(search.city)):
        params["city"] = [key]
        where.append("b.city_keys @> %(city)s::varchar[]")
    if search.service and (text := normalize(search.service)):
        params["service"] = like_pattern(text)
        table = Service._meta.db_table
        exists = f'EXISTS (SELECT 1 FROM "{table}" s WHERE s.business_id = b.id AND s.is_active AND s.search_text LIKE %(service)s)'  # noqa: E501, S608
        where.append(exists)
    return " AND ".join(where)


def _from(search: Search, params: dict[str, Any]) -> tuple[str, str, str]:
    """(FROM clause, distance and branch columns, ORDER BY) for the search."""
    business = Business._meta.db_table
    if search.near is None:
        return f'"{business}" b', "NULL::float8, NULL::bigint", "b.name_en, b.id"
    lat, lng = search.near
    lat_lo, lat_hi, lng_lo, lng_hi = _bounding_box(lat, lng, search.radius_km)
    params.update(lat=lat, lng=lng, lat_lo=lat_lo, lat_hi=lat_hi, lng_lo=lng_lo, lng_hi=lng_hi, radius=search.radius_km)
    haversine = (
        f"2 * {_EARTH_KM} * asin(least(1, sqrt("
        "power(sin(radians(br.latitude - %(lat)s) / 2), 2)"
        " + cos(radians(%(lat)s)) * cos(radians(br.latitude)) * power(sin(radians(br.longitude - %(lng)s) / 2), 2))))"
    )
    nearest = f"""(SELECT DISTINCT ON (br.business_id) br.business_id, br.id AS branch_id, {haversine} AS km
                      FROM "{Branch._meta.db_table}" br
                     WHERE br.is_active AND br.latitude BETWEEN %(lat_lo)s AND %(lat_hi)s
                       AND br.longitude BETWEEN %(lng_lo)s AND %(lng_hi)s
                     ORDER BY br.business_id, km, br.id) near"""  # noqa: S608 - names and constants only
    return (
        f'{nearest} JOIN "{business}" b ON b.id = near.business_id AND near.km <= %(radius)s',
        "near.km, near.branch_id",
        "near.km, b.id",
    )


def business_search(search: Search, *, now: datetime | None = None) -> SearchResult:
    """One page of the listed businesses matching `search` (see the module's docstring). 6 queries for a page
    with results (8 when one of them has nothing free today or tomorrow), 2 for an empty one."""
    params: dict[str, Any] = {}
    source, extra, order = _from(search, params)
    where = _filters(search, params)
    params.update(limit=search.page_size + 1, offset=(search.page - 1) * search.page_size, cap=COUNT_CAP + 1)
    page_sql = f"""
        SELECT {model_columns(Business, "b")}, {extra}
          FROM {source}
         WHERE {where}
         ORDER BY {order}
         LIMIT %(limit)s OFFSET %(offset)s
    """  # noqa: S608 - only table and column names and constants go into the text
    count_sql = f"SELECT count(*) FROM (SELECT 1 FROM {source} WHERE {where} LIMIT %(cap)s) matched"  # noqa: S608
    n = model_width(Business)
    with connection.cursor() as cursor:
        cursor.execute(page_sql, params)
        rows = cursor.fetchall()
        cursor.execute(count_sql, params)
        (count,) = cursor.fetchone()
    has_next = len(rows) > search.page_size
    rows = rows[: search.page_size]
    hits = [
        BusinessHit(
            business=model_from_row(Business, row),
            branch=None,
            distance_km=None if row[n] is None else round(float(row[n]), 1),
        )
        for row in rows
    ]
    nearest = {hit.business.pk: row[n + 1] for hit, row in zip(hits, rows, strict=True)}
    if hits:
        _attach_branches(hits, nearest)
        _attach_services_and_next(hits, search, now=now or timezone.now())
    return SearchResult(hits=hits, count=min(count, COUNT_CAP), count_capped=count > COUNT_CAP, has_next=has_next)


def _attach_branches(hits: list[BusinessHit], nearest: dict[int, int | None]) -> None:
    branches: dict[int, list[Branch]] = defaultdict(list)
    for branch in Branch.objects.filter(business_id__in=[h.business.pk for h in hits], is_active=True).order_by(
        "business_id", "display_order", "id"
    ):
        branches[branch.business_id].append(branch)
    for hit in hits:
        hit.branches = branches[hit.business.pk]
        wanted = nearest.get(hit.business.pk)
        hit.branch = next((b for b in hit.branches if b.pk == wanted), hit.branches[0] if hit.branches else None)


# --- price range and next available ---------------------------------------------------------------------------


@cache
def _services_sql() -> str:
    """Per business of the page: the min and max price of its active services, and the one service its next
    available slot is for (the first matching `%(service)s` when given, then one that somebody can give, then the
    shortest, then display order) with the staff who can give it."""
    service = Service._meta.db_table
    givers = givers_sql().format(service="sv.id")
    return f"""
        SELECT DISTINCT ON (sv.business_id)
               min(sv.price_amount) OVER w, max(sv.price_amount) OVER w, {model_columns(Service, "sv")}, givers.ids
          FROM "{service}" sv
          CROSS JOIN LATERAL (SELECT {givers} AS ids) givers
         WHERE sv.business_id = ANY(%(businesses)s) AND sv.is_active
        WINDOW w AS (PARTITION BY sv.business_id)
         ORDER BY sv.business_id,
                  (%(service)s::text IS NOT NULL AND sv.search_text NOT LIKE %(service)s),
                  givers.ids IS NULL,
                  sv.duration_minutes + sv.buffer_before_minutes + sv.buffer_after_minutes, sv.display_order, sv.id
    """  # noqa: S608 - only the models' table and column names go into the text


def _attach_services_and_next(hits: list[BusinessHit], search: Search, *, now: datetime) -> None:
    text = normalize(search.service) if search.service else ""
    params = {
        "businesses": [h.business.pk for h in hits],
        "service": like_pattern(text) if text else None,
        "branch": None,
    }
    with connection.cursor() as cursor:
        cursor.execute(_services_sql(), params)
        rows = cursor.fetchall()
    chosen: dict[int, tuple[Service, list[int]]] = {}
    by_id = {h.business.pk: h for h in hits}
    for row in rows:
        price_min, price_max = row[0], row[1]
        service = model_from_row(Service, row[2:])
        hit = by_id[service.business_id]
        hit.price_min, hit.price_max = Money(price_min, service.currency), Money(price_max, service.currency)
        service.business = hit.business  # the row the page loaded: its policies and time zone
        if row[-1]:
            chosen[service.business_id] = (service, list(row[-1]))
    for business_id, found in next_available_many(
        [(by_id[b].business, service, ids) for b, (service, ids) in chosen.items()], now=now
    ).items():
        by_id[business_id].next_available = found


def next_available_many(
    wanted: Sequence[tuple[Business, Service, list[int]]], *, now: datetime, days: int = NEXT_DAYS
) -> dict[int, NextAvailable]:
    """Per business id: the first slot of `service` with any of `staff_ids` within `days` local days from today
    (cut to its booking window), or nothing when there is none.

    Two rounds of two queries (schedules, bookings) for all of them: today and tomorrow first, where most
    businesses have a slot; the rest of the days only for those that had none. Loading a week of bookings for
    every staff member of a page up front cost more than the second round."""
    out: dict[int, NextAvailable] = {}
    todo: list[_Wanted] = []
    for business, service, staff_ids in wanted:
        rules = slot_rules(service=service, business=business, now=now)
        today = now.astimezone(rules.tz).date()
        last = today + timedelta(days=min(days - 1, business.max_advance_days))
        todo.append(_Wanted(business, service, staff_ids, rules, today, last))
    for first_round in (True, False):
        asked = []
        for item in todo:
            split = item.today + timedelta(days=_FIRST_ROUND_DAYS)
            start, end = (item.today, min(item.last, split - timedelta(days=1))) if first_round else (split, item.last)
            if start <= end:
                asked.append((item, start, end))
        if not asked:
            break
        schedules = staff_schedules_many(
            [ScheduleRequest(item.business, item.staff_ids, start, end, item.service) for item, start, end in asked]
        )
        todo = []
        for (item, start, end), mine in zip(asked, schedules, strict=True):
            found = first_slot_many(mine, item.rules, start, end)
            if found is not None:
                out[item.business.pk] = NextAvailable(start=found[0].start, service=item.service, staff_ids=found[1])
            elif end < item.last:
                todo.append(item)
    return out


@dataclass(frozen=True, slots=True)
class _Wanted:
    business: Business
    service: Service
    staff_ids: list[int]
    rules: SlotRules
    today: date
    last: date
