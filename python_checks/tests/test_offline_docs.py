"""Data Docs open offline: a real GX site, its CDN assets vendored from pinned npm packages.

The site is built by Great Expectations itself (ephemeral context, pandas data with one null and
one value outside its set), made offline with `make_offline`, then opened from file:// in headless
chromium with every non-file request blocked. The assets come from the npm registry once per
install (the shared cache); later runs only verify them.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import re
import shutil
from pathlib import Path

import pytest

from revops_warehouse import settings
from revops_warehouse.quality import offline_docs
from revops_warehouse.quality.offline_docs import (
    OfflineDocsError,
    default_cache_dir,
    fetch_assets,
    make_offline,
    rewrite_html,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = settings.PROJECT_DIR / "artifacts" / "test" / "data_docs.png"
SITE_NAME = "offline_docs_test"

_TAG = re.compile(r"<(script|link|img)\b((?:\"[^\"]*\"|'[^']*'|[^'\">])*)>", re.I | re.S)
_ATTR = re.compile(r"""([\w-]+)\s*=\s*("[^"]*"|'[^']*')""")


def _resources(page: Path) -> list[tuple[str, dict[str, str]]]:
    """(tag, attributes) of each script, link and img of a page."""
    found = []
    for tag, attrs in _TAG.findall(page.read_text(encoding="utf-8")):
        found.append((tag.lower(), {k.lower(): v[1:-1] for k, v in _ATTR.findall(attrs)}))
    return found


def _hyperlinks(page: Path) -> list[str]:
    return re.findall(r"<a\b[^>]*?href=\"(https?://[^\"]+)\"", page.read_text(encoding="utf-8"))


def _validation_page(site: Path) -> Path:
    (page,) = (site / "validations").rglob("*.html")
    return page


@pytest.fixture(scope="module")
def asset_cache() -> Path:
    return fetch_assets(default_cache_dir())


@pytest.fixture(scope="module")
def gx_site(tmp_path_factory) -> Path:
    """A Data Docs site as GX 1.24.1 builds it (CDN references untouched)."""
    import great_expectations as gx
    import pandas as pd

    site = tmp_path_factory.mktemp("gx") / "data_docs"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GX_ANALYTICS_ENABLED", "false")
        context = gx.get_context(mode="ephemeral")
        context.add_data_docs_site(
            site_name=SITE_NAME,
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
        frame = pd.DataFrame(
            {"lead_id": ["L-1", "L-2", None, "L-4", "L-5"], "status": ["open", "won", "lost", "bogus", "open"]}
        )
        batch = (
            context.data_sources.add_pandas("crm")
            .add_dataframe_asset("leads")
            .add_batch_definition_whole_dataframe("all_leads")
        )
        suite = context.suites.add(gx.ExpectationSuite(name="leads.quality"))
        suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(column="lead_id"))
        suite.add_expectation(
            gx.expectations.ExpectColumnValuesToBeInSet(column="status", value_set=["open", "won", "lost"])
        )
        validation = context.validation_definitions.add(gx.ValidationDefinition(name="leads", data=batch, suite=suite))
        result = validation.run(batch_parameters={"dataframe": frame}, result_format="COMPLETE")
        assert not result.success
        context.build_data_docs(site_names=[SITE_NAME])
    assert (site / "index.html").is_file()
    return site


@pytest.fixture(scope="module")
def offline_site(gx_site: Path, asset_cache: Path, tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("offline") / "data_docs"
    shutil.copytree(gx_site, site)
    make_offline(site, asset_cache)
    return site


@pytest.fixture()
def site_copy(gx_site: Path, tmp_path: Path) -> Path:
    site = tmp_path / "data_docs"
    shutil.copytree(gx_site, site)
    return site


# --- rewriting --------------------------------------------------------------------------------------


def test_the_gx_site_loads_from_cdns_before(gx_site: Path):
    remote = {a.get("src") or a.get("href") for _, a in _resources(gx_site / "index.html")}
    assert "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css" in remote
    assert "https://code.jquery.com/jquery-3.7.1.min.js" in remote


def test_every_cdn_reference_is_rewritten_to_an_existing_local_file(offline_site: Path):
    pages = sorted(offline_site.rglob("*.html"))
    assert len(pages) >= 3  # index, the suite, the validation result
    for page in pages:
        resources = _resources(page)
        assert resources, page
        for tag, attrs in resources:
            url = attrs.get("src") or attrs.get("href") or ""
            if tag == "script" and not url:
                continue  # inline code
            assert not re.match(r"(https?:)?//", url), f"{page}: {tag} still loads {url}"
            assert "integrity" not in attrs and "crossorigin" not in attrs, f"{page}: {tag} {attrs}"
            assert (page.parent / url).resolve().is_file(), f"{page}: {url} does not resolve to a file"
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", text), page


def test_relative_paths_follow_the_page_depth(offline_site: Path):
    index_srcs = {a.get("src") for t, a in _resources(offline_site / "index.html") if t == "script"}
    assert "static/vendor/jquery@3.7.1/dist/jquery.min.js" in index_srcs

    page = _validation_page(offline_site)
    depth = len(page.relative_to(offline_site).parts) - 1
    assert depth >= 4
    srcs = {a.get("src") for t, a in _resources(page) if t == "script"}
    assert "../" * depth + "static/vendor/jquery@3.7.1/dist/jquery.min.js" in srcs
    hrefs = {a.get("href") for t, a in _resources(page) if t == "link"}
    assert "../" * depth + "static/vendor/bootstrap@4.3.1/dist/css/bootstrap.min.css" in hrefs
    assert "../" * depth + "static/vendor/@fortawesome/fontawesome-free@6.6.0/css/all.min.css" in hrefs


def test_hyperlinks_are_left_alone(gx_site: Path, offline_site: Path):
    before = _hyperlinks(gx_site / "index.html")
    assert "https://greatexpectations.io" in before
    assert _hyperlinks(offline_site / "index.html") == before
    page = _validation_page(offline_site)
    assert _hyperlinks(page) == _hyperlinks(gx_site / page.relative_to(offline_site))


def test_vendored_files_are_the_cdn_files_their_sri_hashes_name(gx_site: Path, offline_site: Path):
    checked = 0
    for _tag, attrs in _resources(gx_site / "index.html"):
        if "integrity" not in attrs:
            continue
        algorithm, expected = attrs["integrity"].split("-", 1)
        local = offline_site / offline_docs.local_path(attrs["src"])
        assert base64.b64encode(hashlib.new(algorithm, local.read_bytes()).digest()).decode() == expected, local
        checked += 1
    assert checked == 2  # popper.js and bootstrap.js carry SRI hashes in GX's templates


def test_make_offline_is_idempotent(offline_site: Path, asset_cache: Path):
    assert make_offline(offline_site, asset_cache) == []


def test_an_unknown_cdn_url_raises_naming_page_and_url(site_copy: Path, asset_cache: Path):
    page = _validation_page(site_copy)
    text = page.read_text(encoding="utf-8")
    new_lib = "https://cdn.example.org/npm/new-chart-lib@2/dist/chart.min.js"
    page.write_text(text.replace("</head>", f'<script src="{new_lib}"></script></head>', 1), encoding="utf-8")
    index_before = (site_copy / "index.html").read_text(encoding="utf-8")

    with pytest.raises(OfflineDocsError) as caught:
        make_offline(site_copy, asset_cache)
    assert new_lib in str(caught.value)
    assert str(page) in str(caught.value)
    assert (site_copy / "index.html").read_text(encoding="utf-8") == index_before  # nothing half-done
    assert not (site_copy / "static" / "vendor").exists()


def test_rewrite_html_units():
    page = """<html><head>
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
<script src="https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js"
        integrity="sha384-x" crossorigin="anonymous"></script>
<script src="//code.jquery.com/jquery-3.7.1.min.js"></script>
<link rel="canonical" href="https://example.org/page">
<link rel="shortcut icon" href="../static/images/favicon.ico" type="image/x-icon"/>
<!-- <script src="https://commented.example.org/a.js"></script> -->
<script>var s = '<script src="https://inline.example.org/x.js">';</script>
<style>.a { background:
  url('https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/full_logo_dark.png'); }</style>
</head><body><a href="https://greatexpectations.io">GX</a>
<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=20260101T000000Z" alt="">
</body></html>"""
    new, problems = rewrite_html(page, "../../")
    assert problems == []
    assert 'href="../../static/vendor/bootstrap@4.3.1/dist/css/bootstrap.min.css"/>' in new
    assert '<script src="../../static/vendor/bootstrap@4.3.1/dist/js/bootstrap.min.js"></script>' in new
    assert '<script src="../../static/vendor/jquery@3.7.1/dist/jquery.min.js"></script>' in new
    assert 'url("../../static/images/logo-long.png")' in new
    assert 'src="../../static/images/logo-long.png"' in new
    assert '<link rel="shortcut icon" href="../../static/images/favicon.ico" type="image/x-icon"/>' in new
    for untouched in (
        '<link rel="canonical" href="https://example.org/page">',
        '<!-- <script src="https://commented.example.org/a.js"></script> -->',
        "var s = '<script src=\"https://inline.example.org/x.js\">';",
        '<a href="https://greatexpectations.io">GX</a>',
    ):
        assert untouched in new

    new, problems = rewrite_html(page, "")
    assert '<script src="static/vendor/jquery@3.7.1/dist/jquery.min.js"></script>' in new

    unknown = (
        '<script src="https://unpkg.com/left-pad@9/index.js"></script>'
        '<link rel="stylesheet" href="https://fonts.example.com/css?family=X">'
        '<div style="background: url(https://img.example.com/bg.png)"></div>'
    )
    _, problems = rewrite_html(unknown, "")
    assert problems == [
        "https://unpkg.com/left-pad@9/index.js",
        "https://fonts.example.com/css?family=X",
        "https://img.example.com/bg.png",
    ]


def test_every_cdn_url_of_the_installed_gx_templates_is_pinned():
    urls = offline_docs.template_urls()
    assert len(urls) >= 15
    assert sorted(url for url in urls if offline_docs.local_path(url) is None) == []


# --- fetching and verification ----------------------------------------------------------------------

SMALL = "bootstrap-datepicker@1.9.0"  # the smallest tarball (~120 kB), for the tests that download


def _only(monkeypatch, package: offline_docs.NpmPackage) -> None:
    monkeypatch.setattr(offline_docs, "PACKAGES", (package,))


def _small() -> offline_docs.NpmPackage:
    return next(p for p in offline_docs.PACKAGES if p.ident == SMALL)


def test_the_cache_holds_every_pinned_file_verified(asset_cache: Path):
    for package in offline_docs.PACKAGES:
        for rel, digest in package.files.items():
            assert hashlib.sha256((asset_cache / package.ident / rel).read_bytes()).hexdigest() == digest


def test_fetch_is_idempotent_without_network(asset_cache: Path, monkeypatch):
    def no_network(url):
        raise AssertionError(f"downloaded {url} although the cache is complete")

    monkeypatch.setattr(offline_docs, "_download", no_network)
    assert fetch_assets(asset_cache) == asset_cache


def test_a_corrupted_cached_file_is_fetched_again(asset_cache: Path, tmp_path: Path, monkeypatch):
    package = _small()
    _only(monkeypatch, package)
    cache = tmp_path / "cache"
    shutil.copytree(asset_cache / package.ident, cache / package.ident)
    corrupted = cache / package.ident / "dist/js/bootstrap-datepicker.min.js"
    corrupted.write_bytes(corrupted.read_bytes() + b"\nalert('tampered');\n")

    fetch_assets(cache)
    assert hashlib.sha256(corrupted.read_bytes()).hexdigest() == package.files["dist/js/bootstrap-datepicker.min.js"]


def test_make_offline_never_copies_a_corrupted_file(site_copy: Path, asset_cache: Path, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    shutil.copytree(asset_cache, cache)
    corrupted = cache / "jquery@3.7.1" / "dist/jquery.min.js"
    corrupted.write_bytes(b"window.evil = true;")
    real_fetch = offline_docs.fetch_assets
    monkeypatch.setattr(offline_docs, "fetch_assets", lambda cache_dir=None: Path(cache_dir))  # skip the repair
    with pytest.raises(OfflineDocsError, match=r"jquery\.min\.js: sha256 differs"):
        make_offline(site_copy, cache)
    assert not (site_copy / "static/vendor/jquery@3.7.1/dist/jquery.min.js").exists()
    assert "https://code.jquery.com" in (site_copy / "index.html").read_text(encoding="utf-8")

    monkeypatch.setattr(offline_docs, "fetch_assets", real_fetch)
    _only(monkeypatch, next(p for p in offline_docs.PACKAGES if p.ident == "jquery@3.7.1"))
    make_offline(site_copy, cache)  # now the cache is repaired first
    assert (site_copy / "static/vendor/jquery@3.7.1/dist/jquery.min.js").read_bytes() == (
        asset_cache / "jquery@3.7.1/dist/jquery.min.js"
    ).read_bytes()


def test_a_download_not_matching_its_file_pin_is_rejected(tmp_path: Path, monkeypatch):
    package = _small()
    wrong = dict(package.files, **{"dist/js/bootstrap-datepicker.min.js": "0" * 64})
    _only(monkeypatch, dataclasses.replace(package, files=wrong))
    with pytest.raises(
        OfflineDocsError, match=r"bootstrap-datepicker\.min\.js has sha256 [0-9a-f]{64}, not the pinned 0+"
    ):
        fetch_assets(tmp_path / "cache")
    assert not (tmp_path / "cache" / SMALL).exists()


def test_a_tarball_not_matching_its_integrity_pin_is_rejected(tmp_path: Path, monkeypatch):
    package = _small()
    _only(monkeypatch, dataclasses.replace(package, integrity="sha512-" + base64.b64encode(bytes(64)).decode()))
    with pytest.raises(OfflineDocsError, match="integrity"):
        fetch_assets(tmp_path / "cache")


def test_an_unreachable_registry_is_named(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(offline_docs, "REGISTRY", "http://127.0.0.1:9")
    _only(monkeypatch, _small())
    with pytest.raises(OfflineDocsError) as caught:
        fetch_assets(tmp_path / "cache")
    assert "http://127.0.0.1:9/bootstrap-datepicker/-/bootstrap-datepicker-1.9.0.tgz" in str(caught.value)


def test_the_cache_location(monkeypatch, tmp_path: Path):
    monkeypatch.delenv(offline_docs.CACHE_ENV, raising=False)
    assert default_cache_dir() == settings.PROJECT_DIR / ".venv" / "share" / "revops-data-docs-assets"
    monkeypatch.setenv(offline_docs.CACHE_ENV, str(tmp_path / "assets"))
    assert default_cache_dir() == tmp_path / "assets"


# --- a real browser, offline ------------------------------------------------------------------------


def test_the_site_renders_in_chromium_with_the_network_blocked(offline_site: Path):
    from playwright.sync_api import sync_playwright

    assert os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} missing: scripts/system-packages installs it"
    blocked: list[str] = []
    console_errors: list[str] = []
    page_errors: list[str] = []
    failed: list[str] = []

    def only_files(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", only_files)
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: page_errors.append(str(e)))
            page.on("requestfailed", lambda r: failed.append(f"{r.url} {r.failure}"))

            page.goto((offline_site / "index.html").as_uri(), wait_until="load")
            index = page.evaluate(
                """() => ({
                    navbar: getComputedStyle(document.querySelector('nav.navbar')).display,
                    srOnly: (() => { const d = document.createElement('div'); d.className = 'sr-only';
                                     document.body.appendChild(d); return getComputedStyle(d).position; })(),
                    rows: document.querySelectorAll('.bootstrap-table tbody tr[data-index]').length,
                    icon: getComputedStyle(document.querySelector('i.fas')).fontFamily,
                    vega: typeof vegaEmbed,
                })"""
            )
            assert index["navbar"] == "flex"  # bootstrap's .navbar; a <nav> is a block otherwise
            assert index["srOnly"] == "absolute"  # bootstrap's .sr-only
            assert index["rows"] >= 1  # bootstrap-table built the validation list from its JSON data
            assert "Font Awesome" in index["icon"]
            assert index["vega"] == "function"
            page.screenshot(path=str(SCREENSHOT.with_name("data_docs_index.png")))

            validation = _validation_page(offline_site)
            page.goto(validation.as_uri(), wait_until="load")
            tables = page.locator(".bootstrap-table")  # wrappers only bootstrap-table's script creates
            assert tables.count() >= 1
            assert page.locator(".bootstrap-table tbody tr[data-index]").count() >= 2
            assert page.get_by_text("bogus").count() >= 1  # the value outside its set, listed as unexpected
            assert page.evaluate("getComputedStyle(document.querySelector('table.table')).borderCollapse") == (
                "collapse"
            )
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()

    assert console_errors == []
    assert page_errors == []
    assert failed == []
    assert blocked == []
