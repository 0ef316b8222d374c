"""`status_pages:` — public status pages, one per organization — and `api:` — the REST API's limits.

```yaml
status_pages:
  - org: acme                   # optional when the file declares no organizations (`default`)
    title: Acme status          # optional; the organization's name
    description: Live status of Acme's public services.
    groups:                     # only what is listed here is shown: checks opt in, nothing leaks
      - name: Website
        checks: [web, api]      # checks of that organization, by name
      - name: Partner APIs
        tags: [public]          # and/or every check with one of these tags (API-created ones too)
api:
  rate: 10                      # requests per second per API key, sustained
  burst: 40                     # requests a key may make at once before `rate` applies
```

A page lives at `/status/<org>` on `engine.listen`; an organization without a page answers 404 there.
Pure: pydantic and the standard library, like the rest of the config modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field

from pulsewatch.config_yaml import first_seen, listing, suggest
from pulsewatch.domain.monitoring import DEFAULT_ORG

if TYPE_CHECKING:
    from pulsewatch.config_build import Validated
    from pulsewatch.config_types import OrganizationConfig
    from pulsewatch.config_yaml import Loc, Report
    from pulsewatch.domain.monitoring import Check


@dataclass(frozen=True)
class StatusGroup:
    """A heading on a status page and the checks under it: named ones, and those with one of `tags`."""

    name: str
    checks: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def includes(self, check: Check) -> bool:
        """Whether `check` (of the page's organization) is shown in this group."""
        return check.name in self.checks or any(t in check.tags for t in self.tags)


@dataclass(frozen=True)
class StatusPage:
    """One organization's public status page."""

    org: str
    title: str
    description: str = ""
    groups: tuple[StatusGroup, ...] = ()


@dataclass(frozen=True)
class ApiSettings:
    """The REST API's per-key token bucket: `rate` requests a second sustained, `burst` at once."""

    rate: float = 10.0
    burst: int = 40


_Name = Annotated[str, Field(min_length=1, max_length=200)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class StatusGroupSection(_Section):
    """One group of a status page."""

    name: _Name
    """The heading people see, like "Website"."""
    checks: list[_Name] = []
    """Checks of the page's organization shown in this group, by name."""
    tags: list[_Name] = []
    """Also show every check of the organization that has one of these tags."""


class StatusPageSection(_Section):
    """`status_pages:` item — the public page of one organization."""

    org: str | None = None
    """The organization (optional when the file declares none: `default`)."""
    title: str | None = Field(default=None, max_length=200)
    """The page's heading; the organization's name when left out."""
    description: str = Field(default="", max_length=2000)
    """A sentence under the heading."""
    groups: list[StatusGroupSection] = Field(min_length=1)
    """What the page shows, group by group; a check appears only if a group lists it."""


class ApiSection(_Section):
    """`api:` — limits of the REST API on `engine.listen`."""

    rate: float = Field(default=ApiSettings.rate, gt=0, le=100_000)
    """Requests per second each API key may make, sustained (default 10)."""
    burst: int = Field(default=ApiSettings.burst, ge=1, le=1_000_000)
    """Requests a key may make at once before the rate applies (default 40)."""


def build_status_pages(
    valid: Validated, report: Report, checks: tuple[Check, ...], organizations: tuple[OrganizationConfig, ...]
) -> tuple[StatusPage, ...]:
    """The status pages, with organizations and check names checked (problems go to `report`)."""
    slugs = {o.slug for o in organizations} | valid.raw_names("organizations", "slug")
    names = {o.slug: o.name for o in organizations}
    seen: dict[str, Loc] = {}
    pages = []
    for i, section in valid.list_items("status_pages", StatusPageSection):
        base: Loc = ("status_pages", i)
        org = section.org or (DEFAULT_ORG if not slugs else None)
        if org is None:
            report.add(
                (*base, "org"), f"name the organization of this page; {listing('organizations', slugs)}"
            )
            continue
        if org not in (slugs or {DEFAULT_ORG}):
            report.add(
                (*base, "org"),
                f'unknown organization "{org}"; {listing("organizations", slugs)}' + suggest(org, slugs),
            )
            continue
        if not first_seen(report, seen, org, (*base, "org"), f'status page of organization "{org}"'):
            continue
        in_org = {c.name for c in checks if c.org == org}
        for g, group in enumerate(section.groups):
            for c, name in enumerate(group.checks):
                if name not in in_org:
                    report.add(
                        (*base, "groups", g, "checks", c),
                        f'no check "{name}" in organization {org}' + suggest(name, in_org),
                    )
        groups = tuple(StatusGroup(g.name, tuple(g.checks), tuple(g.tags)) for g in section.groups)
        title = section.title or names.get(org) or ("Status" if org == DEFAULT_ORG else org)
        pages.append(StatusPage(org=org, title=title, description=section.description, groups=groups))
    return tuple(pages)


def build_api_settings(section: ApiSection | None) -> ApiSettings:
    """The API settings for a validated `api:` section; the defaults when the file has none."""
    if section is None:
        return ApiSettings()
    return ApiSettings(rate=section.rate, burst=section.burst)
