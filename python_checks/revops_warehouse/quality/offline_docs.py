"""Data Docs that open offline: the CDN assets of GX's templates, vendored from pinned npm packages.

Great Expectations 1.24.1 renders Data Docs pages that load Bootstrap, bootstrap-table, jQuery,
Popper, Vega, Font Awesome, bootstrap-datepicker and bootstrap-dark from CDNs (and its logo from
an S3 bucket). Opened without a network those pages lose their styling and their scripts fail.

`fetch_assets` downloads the exact npm packages those CDN URLs serve, checks each tarball against
npm's published integrity and each file we use against the sha256 pinned in `PACKAGES`, and keeps
the files in a cache (`default_cache_dir()`). `make_offline` copies them into a built site under
`static/vendor/` and rewrites every page so each CDN reference points at the local copy. A
script, stylesheet, image or CSS `url()` still pointing at http(s) after that (say a GX upgrade
added a CDN asset that is not pinned here) is an error naming the page and the URL. Ordinary
hyperlinks (`<a href="https://…">`) are left alone: following them needs a network anyway.

Refreshing the pins after a GX upgrade: see docs/data_docs.md (`--print-hashes`, `--scan-templates`).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html as html_lib
import http.client
import io
import os
import re
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from revops_warehouse import settings

REGISTRY = os.environ.get("REVOPS_NPM_REGISTRY", "https://registry.npmjs.org").rstrip("/")
CACHE_ENV = "REVOPS_DATA_DOCS_ASSETS"
VENDOR_DIR = "static/vendor"
DOWNLOAD_TIMEOUT_S = 120


class OfflineDocsError(RuntimeError):
    """The assets cannot be fetched or verified, or a page references a remote asset with no local copy."""


@dataclass(frozen=True, eq=False)
class NpmPackage:
    """One npm package version: its tarball's npm integrity and the sha256 of each file we vendor."""

    name: str
    version: str
    integrity: str  # npm's dist.integrity of the tarball ("sha512-<base64>")
    files: dict[str, str] = field(default_factory=dict)  # path inside the package -> sha256

    @property
    def ident(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def tarball_url(self) -> str:
        return f"{REGISTRY}/{self.name}/-/{self.name.rsplit('/', 1)[-1]}-{self.version}.tgz"


_FA_WEBFONTS = {
    "webfonts/fa-brands-400.ttf": "bc844b5b02d3f3adabb514de4e0c0208252d3123413bd03f6287fa446acee859",
    "webfonts/fa-brands-400.woff2": "c411f11975d26eb04cd2aa3c071181d4b18e489f1fb97060d4176a3531dfb36e",
    "webfonts/fa-regular-400.ttf": "64f9fb623681f112261e9a2f97826782439f3925dea8f44a57d1e4db95ba6cfd",
    "webfonts/fa-regular-400.woff2": "c732f106e91bc618767fbac8e2c7b27e5c736d477b2bb4fb83f597a43198c33c",
    "webfonts/fa-solid-900.ttf": "31f099c13f6e4ba05f1b471bf170cb5493249474222917372de3ca5cf29e6a1a",
    "webfonts/fa-solid-900.woff2": "1f0189e087fcefbf654fad74a3a06668b782c01353a61d5c0b7f0bf23e33c020",
    "webfonts/fa-v4compatibility.ttf": "a6274a12fd3f5f1ea05fc9b4677959b31fd101fdac4f0d09c17159c414d36d23",
    "webfonts/fa-v4compatibility.woff2": "2aca24b35bd41474dcc5e7fb5f11ec43fa06e3ac1d0035ad41108fa6b30b0871",
}

# The npm packages behind the CDN URLs of GX 1.24.1's templates. vega@5, vega-lite@5 and vega-embed@6
# are ranges on jsDelivr; they are pinned here to the newest release in that range when pinned.
PACKAGES: tuple[NpmPackage, ...] = (
    NpmPackage(
        "vega",
        "5.33.1",
        "sha512-1fArfVDUqVbb5z8n+/nVQb+VNBzx8svY6CrsyTK4Ujm4yrd9I1auoKxBAPXLCavY1LcrbHUskQbGUP8gXOzyQw==",
        {"build/vega.min.js": "463f3db6a40b20e9747b4ed38f37ed0add508838f9141b1cf8366784b07b30c8"},
    ),
    NpmPackage(
        "vega-lite",
        "5.23.0",
        "sha512-l4J6+AWE3DIjvovEoHl2LdtCUkfm4zs8Xxx7INwZEAv+XVb6kR6vIN1gt3t2gN2gs/y4DYTs/RPoTeYAuEg6mA==",
        {"build/vega-lite.min.js": "58c27358e26f2d319cf62f45bc17a4c8362f08645001df2ec8d341eee4097c7f"},
    ),
    NpmPackage(
        "vega-embed",
        "6.29.0",
        "sha512-PmlshTLtLFLgWtF/b23T1OwX53AugJ9RZ3qPE2c01VFAbgt3/GSNI/etzA/GzdrkceXFma+FDHNXUppKuM0U6Q==",
        {"build/vega-embed.min.js": "12d02acfbe3ec59ef9a37dd4822a2e04e2961b5bbb671bbe661d2221715b99da"},
    ),
    NpmPackage(
        "jquery",
        "3.7.1",
        "sha512-m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdADVD7CkUUizgkpLfg==",
        {"dist/jquery.min.js": "fc9a93dd241f6b045cbff0481cf4e1901becd0e12fb45166a8f17f95823f0b1a"},
    ),
    NpmPackage(
        "popper.js",
        "1.12.9",
        "sha512-s0EEi9xiSCdqz9lV4IiVH5yIZnDX/U1t0tCjB+0jXx9jW8lrR7kOpVupiUg175ogqVoudpDXHF1p6dKATCHMeg==",
        {"dist/umd/popper.min.js": "a52f7aa54d7bcaafa056ee0a050262dfc5694ae28dee8b4cac3429af37ff0d66"},
    ),
    NpmPackage(
        "bootstrap",
        "4.3.1",
        "sha512-rXqOmH1VilAt2DyPzluTi2blhk17bO7ef+zLLPlWvG494pDxcM234pJ8wTc/6R40UWizAIIMgxjvxZg5kmsbag==",
        {
            "dist/css/bootstrap.min.css": "60b19e5da6a9234ff9220668a5ec1125c157a268513256188ee80f2d2c8d8d36",
            "dist/js/bootstrap.min.js": "0a34a87842c539c1f4feec56bba982fd596b73500046a6e6fe38a22260c6577b",
        },
    ),
    NpmPackage(
        "bootstrap-table",
        "1.19.1",
        "sha512-WvV+l1AI/C+zThaKmfHmi/IuayVNB0qdFyEhFx1jyZhO0oLtNJNANkCR3rvJf6Dkh72dsLElxpE/bzK9seEQLA==",
        {
            "dist/bootstrap-table.min.css": "643f536f6982af4d7287af23f89ad457dd7e4a82f9c695330a112b0881c30a4a",
            "dist/bootstrap-table.min.js": "06a571a9beb50bd5ddd60517159775dfec1f3e798fff38fb117ae2350dc9ba9d",
            "dist/extensions/filter-control/bootstrap-table-filter-control.min.js": (
                "111f68d31d1bdd714f9503bf5f4e162e0739c363e4ff2feef950d39e78266ffc"
            ),
        },
    ),
    NpmPackage(
        "bootstrap-table",
        "1.19.0",
        "sha512-L+USHm3X9FKocx/6yngGu12yF6r6s1Ntuc+hoIK2a2QQJjHw5kcySLiE2HY/9sEaSGAOfPbfQOtBH3uKkcpqEA==",
        {
            "dist/extensions/filter-control/bootstrap-table-filter-control.css": (
                "b3ff051168696ec9ae3cf8616c59a6db8734fb282863b23edfd8c0f93eb5c4f0"
            ),
            "dist/extensions/filter-control/bootstrap-table-filter-control.min.css": (
                "2c707bb54520737762a76f2238e87627993fb63bcef6d789a21a4957f393fa1c"
            ),
        },
    ),
    NpmPackage(
        "bootstrap-datepicker",
        "1.9.0",
        "sha512-9rYYbaVOheGYxjOr/+bJCmRPihfy+LkLSg4fIFMT9Od8WwWB/MB50w0JO1eBgKUMbb7PFHQD5uAfI3ArAxZRXA==",
        {
            "dist/css/bootstrap-datepicker.min.css": "b22c8ea45fe905650f8087108b5ed32c1923bcd80d400adc9b0241f18be40208",
            "dist/js/bootstrap-datepicker.min.js": "6ea55ea86749ee1fe560fabac6b3effd81b33046fa74dc657e24d41d28110a9f",
        },
    ),
    NpmPackage(
        "@fortawesome/fontawesome-free",
        "6.6.0",
        "sha512-60G28ke/sXdtS9KZCpZSHHkCbdsOGEhIUGlwq6yhY74UpTiToIh8np7A8yphhM4BWsvNFtIvLpi4co+h9Mr9Ow==",
        {"css/all.min.css": "e5e202e3c899507992952533f57b634722b69b34241d271963559d31aa33ef81", **_FA_WEBFONTS},
    ),
    NpmPackage(
        "@forevolve/bootstrap-dark",
        "1.1.0",
        "sha512-A3ucpEpxPoTVO490lZZCfjPXxv832l7mm1IxX3bXyxvgwnPGXDLyh7dWrphXKO8YBAu3EswbBEu3VSW8NRMW3A==",
        {"dist/css/bootstrap-prefers-dark.css": "b087541364cdc7e95cbf71be42da5259f3d11431cc84198c17b47cd44c87cd5b"},
    ),
)

# Each CDN URL in GX 1.24.1's templates -> (package ident, file inside that package).
CDN_ASSETS: dict[str, tuple[str, str]] = {
    "https://cdn.jsdelivr.net/npm/vega@5": ("vega@5.33.1", "build/vega.min.js"),
    "https://cdn.jsdelivr.net/npm/vega-lite@5": ("vega-lite@5.23.0", "build/vega-lite.min.js"),
    "https://cdn.jsdelivr.net/npm/vega-embed@6": ("vega-embed@6.29.0", "build/vega-embed.min.js"),
    "https://code.jquery.com/jquery-3.7.1.min.js": ("jquery@3.7.1", "dist/jquery.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
        "popper.js@1.12.9",
        "dist/umd/popper.min.js",
    ),
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap@4.3.1",
        "dist/css/bootstrap.min.css",
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap@4.3.1",
        "dist/js/bootstrap.min.js",
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table@1.19.1",
        "dist/bootstrap-table.min.css",
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table@1.19.1",
        "dist/bootstrap-table.min.js",
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": (
        "bootstrap-table@1.19.1",
        "dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": (
        "bootstrap-table@1.19.0",
        "dist/extensions/filter-control/bootstrap-table-filter-control.css",
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": (
        "bootstrap-table@1.19.0",
        "dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": (
        "bootstrap-datepicker@1.9.0",
        "dist/css/bootstrap-datepicker.min.css",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": (
        "bootstrap-datepicker@1.9.0",
        "dist/js/bootstrap-datepicker.min.js",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "@fortawesome/fontawesome-free@6.6.0",
        "css/all.min.css",
    ),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": (
        "@forevolve/bootstrap-dark@1.1.0",
        "dist/css/bootstrap-prefers-dark.css",
    ),
}

# GX's logo comes from its S3 bucket (with a cache-busting query); the site ships its own copy in
# static/images. There is no local dark-mode logo, so dark mode gets the regular one.
GX_WEB_ASSETS_PREFIX = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"
GX_WEB_ASSETS: dict[str, str] = {
    "logo-long.png": "static/images/logo-long.png",
    "full_logo_dark.png": "static/images/logo-long.png",
}


def default_cache_dir() -> Path:
    """REVOPS_DATA_DOCS_ASSETS, else <project>/.venv/share/revops-data-docs-assets (per install, git-ignored)."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser().resolve()
    return settings.PROJECT_DIR / ".venv" / "share" / "revops-data-docs-assets"


def _packages_by_ident(packages: Iterable[NpmPackage] = PACKAGES) -> dict[str, NpmPackage]:
    return {p.ident: p for p in packages}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cached_ok(package: NpmPackage, directory: Path) -> bool:
    return all(
        (directory / rel).is_file() and _sha256(directory / rel) == digest for rel, digest in package.files.items()
    )


def _download(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "revops-warehouse offline Data Docs"})
    try:
        with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as response:
            return response.read()
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        raise OfflineDocsError(
            f"cannot download {url}: {exc}. The npm registry must be reachable once to fetch the Data Docs "
            f"assets; or point {CACHE_ENV} at a directory that already holds them."
        ) from exc


def _check_integrity(package: NpmPackage, data: bytes) -> None:
    algorithm, _, expected = package.integrity.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if actual != expected:
        raise OfflineDocsError(
            f"{package.tarball_url}: tarball integrity {algorithm}-{actual} differs from the pinned {package.integrity}"
        )


def _extract(package: NpmPackage, data: bytes, *, verify_files: bool = True) -> dict[str, bytes]:
    """The pinned files of a package tarball (whose top folder, usually `package/`, is dropped)."""
    wanted = set(package.files)
    found: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive:
            rel = member.name.split("/", 1)[-1] if "/" in member.name else member.name
            if member.isfile() and rel in wanted:
                handle = archive.extractfile(member)
                assert handle is not None
                found[rel] = handle.read()
    missing = sorted(wanted - set(found))
    if missing:
        raise OfflineDocsError(f"{package.tarball_url}: lacks {', '.join(missing)}")
    if verify_files:
        for rel, content in found.items():
            actual = hashlib.sha256(content).hexdigest()
            if actual != package.files[rel]:
                raise OfflineDocsError(
                    f"{package.tarball_url}: {rel} has sha256 {actual}, not the pinned {package.files[rel]}"
                )
    return found


def fetch_assets(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Make `cache_dir` hold every pinned file, verified; download only the packages that are missing or altered.

    Each tarball comes from the npm registry, is checked against npm's integrity pin, and each file
    taken from it against its sha256 pin. A cached file whose hash no longer matches is fetched again.
    Returns the cache directory.
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    for package in PACKAGES:
        target = cache / package.ident
        if _cached_ok(package, target):
            continue
        data = _download(package.tarball_url)
        _check_integrity(package, data)
        files = _extract(package, data)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".fetch-", dir=target.parent))
        try:
            for rel, content in files.items():
                (staging / rel).parent.mkdir(parents=True, exist_ok=True)
                (staging / rel).write_bytes(content)
            shutil.rmtree(target, ignore_errors=True)
            os.replace(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if not _cached_ok(package, target):  # another process replaced it with something else meanwhile
            raise OfflineDocsError(f"{target}: cached files do not match their pins after fetching")
    return cache


# --- rewriting ----------------------------------------------------------------------------------

_ATTRS = r"""(?:"[^"]*"|'[^']*'|[^'">])*"""
_TOKEN = re.compile(
    r"(?P<comment><!--.*?-->)"
    rf"|(?P<script_open><script\b(?P<script_attrs>{_ATTRS})>)(?P<script_body>.*?)(?P<script_close></script\s*>)"
    rf"|(?P<style_open><style\b(?P<style_attrs>{_ATTRS})>)(?P<style_body>.*?)(?P<style_close></style\s*>)"
    rf"|<(?P<tag>[a-zA-Z][a-zA-Z0-9-]*)(?P<attrs>{_ATTRS})>",
    re.S | re.I,
)
_ATTR = re.compile(r"""(?P<space>\s+)(?P<name>[^\s"'>/=]+)(?:(?P<eq>\s*=\s*)(?P<value>"[^"]*"|'[^']*'|[^\s"'>]+))?""")
_CSS_URL = re.compile(r"""url\(\s*(?P<quote>["']?)(?P<url>[^"')]*?)(?P=quote)\s*\)""", re.I)
_CSS_IMPORT = re.compile(r"""@import\s+(?P<quote>["'])(?P<url>[^"']*)(?P=quote)""", re.I)
_REMOTE = re.compile(r"^\s*(?:https?:)?//", re.I)
_FETCHED_ATTRS = {"src", "poster", "data", "srcset", "background"}
_RESOURCE_RELS = {"stylesheet", "icon", "preload", "modulepreload", "manifest", "apple-touch-icon", "mask-icon"}
_SRI_ATTRS = {"integrity", "crossorigin"}
_SITE_STATIC = re.compile(r"^(?:\.\.?/)*(?P<path>static/.*)$")


def local_path(url: str) -> str | None:
    """The site-relative path of the local copy of a remote asset URL, or None when none is pinned."""
    absolute = "https:" + url if url.startswith("//") else url
    if absolute in CDN_ASSETS:
        ident, rel = CDN_ASSETS[absolute]
        return f"{VENDOR_DIR}/{ident}/{rel}"
    bare = re.split(r"[?#]", absolute, maxsplit=1)[0]
    if bare.startswith(GX_WEB_ASSETS_PREFIX):
        return GX_WEB_ASSETS.get(bare[len(GX_WEB_ASSETS_PREFIX) :])
    return None


def _localize(url: str, root: str, problems: list[str]) -> str | None:
    """The relative URL replacing a remote `url`, None when `url` is not remote; unpinned ones go to problems."""
    if not _REMOTE.match(url):
        return None
    local = local_path(url.strip())
    if local is None:
        problems.append(url.strip())
        return None
    return root + local


def _rewrite_css(css: str, root: str, problems: list[str]) -> str:
    def url_sub(match: re.Match[str]) -> str:
        new = _localize(html_lib.unescape(match["url"]), root, problems)
        return match[0] if new is None else f'url("{new}")'

    def import_sub(match: re.Match[str]) -> str:
        new = _localize(match["url"], root, problems)
        return match[0] if new is None else f'@import "{new}"'

    return _CSS_IMPORT.sub(import_sub, _CSS_URL.sub(url_sub, css))


def _attr_value(raw: str | None) -> str:
    if raw is None:
        return ""
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        raw = raw[1:-1]
    return html_lib.unescape(raw)


def _rewrite_attrs(tag: str, attrs: str, root: str, problems: list[str]) -> str:
    parsed = list(_ATTR.finditer(attrs))
    values = {m["name"].lower(): _attr_value(m["value"]) for m in parsed}
    rels = set(values.get("rel", "").lower().split())
    is_resource_link = tag == "link" and bool(rels & _RESOURCE_RELS)
    replaced: dict[int, str] = {}
    for index, match in enumerate(parsed):
        name = match["name"].lower()
        value = _attr_value(match["value"])
        new_value = None
        if name == "style":
            rewritten = _rewrite_css(value, root, problems)
            new_value = rewritten if rewritten != value else None
        elif name == "srcset":
            for candidate in value.split(","):
                url = candidate.strip().split(" ")[0]
                if _REMOTE.match(url):
                    problems.append(url)
        elif name in _FETCHED_ATTRS or (name == "href" and is_resource_link):
            new_value = _localize(value, root, problems)
            site_static = _SITE_STATIC.match(value)
            if new_value is None and site_static and root + site_static["path"] != value:
                # GX's own static files sit at the site root; its favicon link on validation pages is a folder short.
                new_value = root + site_static["path"]
        if new_value is not None:
            replaced[index] = f'{match["space"]}{match["name"]}="{html_lib.escape(new_value, quote=True)}"'
    if not replaced:
        return attrs
    moved_to_local = any(parsed[i]["name"].lower() != "style" for i in replaced)
    pieces: list[str] = []
    last = 0
    for index, match in enumerate(parsed):
        pieces.append(attrs[last : match.start()])
        if index in replaced:
            pieces.append(replaced[index])
        elif not (moved_to_local and match["name"].lower() in _SRI_ATTRS):
            pieces.append(match[0])
        last = match.end()
    pieces.append(attrs[last:])
    return "".join(pieces)


def rewrite_html(html: str, root: str) -> tuple[str, list[str]]:
    """Point every remote asset of a page at its local copy; `root` is the relative path to the site root.

    `root` is "" for a page at the site root and "../../" for one two folders down. Returns the new
    page and the remote asset URLs left without a local copy (scripts, stylesheets and icons, images,
    CSS url() and @import). Hyperlinks and inline script code are not touched; integrity and
    crossorigin attributes are dropped from the tags whose URL became local.
    """
    problems: list[str] = []

    def sub(match: re.Match[str]) -> str:
        if match["comment"]:
            return match[0]
        if match["script_open"]:
            attrs = _rewrite_attrs("script", match["script_attrs"], root, problems)
            return f"<script{attrs}>{match['script_body']}{match['script_close']}"
        if match["style_open"]:
            attrs = _rewrite_attrs("style", match["style_attrs"], root, problems)
            body = _rewrite_css(match["style_body"], root, problems)
            return f"<style{attrs}>{body}{match['style_close']}"
        tag = match["tag"]
        return f"<{tag}{_rewrite_attrs(tag.lower(), match['attrs'], root, problems)}>"

    return _TOKEN.sub(sub, html), problems


def _root_for(page: Path, site_dir: Path) -> str:
    rel = os.path.relpath(site_dir, page.parent)
    return "" if rel == "." else rel.replace(os.sep, "/") + "/"


def make_offline(site_dir: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Make a built Data Docs site self-contained: vendored assets in static/vendor, pages pointing at them.

    Fetches or verifies the assets first (`fetch_assets(cache_dir)`). Every `*.html` page (and the
    site's own `*.css` outside static/vendor) is rewritten; nothing is written when any of them
    references a remote script, stylesheet, image or CSS url() without a pinned local copy: the
    OfflineDocsError then names each page and URL. Idempotent. Returns the files changed.
    """
    site = Path(site_dir).resolve()
    if not (site / "index.html").is_file():
        raise OfflineDocsError(f"{site}: no index.html; is this a built Data Docs site?")
    vendor = site / VENDOR_DIR
    pages = sorted(p for p in site.rglob("*.html") if vendor not in p.parents)
    styles = sorted(p for p in site.rglob("*.css") if vendor not in p.parents)

    changed: dict[Path, str] = {}
    errors: list[str] = []
    for path in pages + styles:
        text = path.read_text(encoding="utf-8")
        root = _root_for(path, site)
        if path.suffix == ".html":
            new_text, problems = rewrite_html(text, root)
        else:
            problems = []
            new_text = _rewrite_css(text, root, problems)
        for url in dict.fromkeys(problems):
            errors.append(f"{path}: references {url}, which has no pinned local copy")
        if GX_WEB_ASSETS_PREFIX in text:
            for local in sorted(set(GX_WEB_ASSETS.values())):
                if not (site / local).is_file():
                    errors.append(f"{path}: the local copy {local} of a GX web asset is missing from the site")
        if new_text != text:
            changed[path] = new_text
    if errors:
        raise OfflineDocsError(
            "Data Docs would still load assets from the network (pin them in "
            "revops_warehouse/quality/offline_docs.py, see docs/data_docs.md):\n  " + "\n  ".join(errors)
        )

    cache = fetch_assets(cache_dir)
    for package in PACKAGES:
        for rel, digest in package.files.items():
            source = cache / package.ident / rel
            content = source.read_bytes()
            if hashlib.sha256(content).hexdigest() != digest:
                raise OfflineDocsError(f"{source}: sha256 differs from its pin {digest}")
            target = vendor / package.ident / rel
            if not target.is_file() or target.read_bytes() != content:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
    for path, text in changed.items():
        path.write_text(text, encoding="utf-8")
    return sorted(changed)


# --- maintenance ----------------------------------------------------------------------------------


def template_urls() -> set[str]:
    """The remote script and stylesheet URLs in the installed GX's Data Docs templates."""
    import great_expectations

    templates = Path(great_expectations.__file__).parent / "render" / "view" / "templates"
    pattern = re.compile(r"""<(?:script|link)\b[^>]*?(?:src|href)\s*=\s*["']((?:https?:)?//[^"']+)["']""", re.I | re.S)
    return {url for path in templates.glob("*.j2") for url in pattern.findall(path.read_text(encoding="utf-8"))}


def print_hashes() -> None:
    """Download each pinned package (tarball integrity checked) and print the sha256 of its listed files."""
    for package in PACKAGES:
        data = _download(package.tarball_url)
        _check_integrity(package, data)
        for rel, content in sorted(_extract(package, data, verify_files=False).items()):
            actual = hashlib.sha256(content).hexdigest()
            flag = "" if actual == package.files[rel] else "   <- differs from the pin"
            print(f"{package.ident} {rel} {actual}{flag}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m revops_warehouse.quality.offline_docs",
        description="Vendor the CDN assets of a built Data Docs site so it opens offline.",
    )
    parser.add_argument("site_dir", nargs="?", help="a built Data Docs site (the folder holding index.html)")
    parser.add_argument("--cache-dir", help=f"asset cache (default: ${CACHE_ENV} or {default_cache_dir()})")
    parser.add_argument("--fetch", action="store_true", help="only fetch and verify the assets")
    parser.add_argument("--print-hashes", action="store_true", help="print the sha256 of each pinned file")
    parser.add_argument("--scan-templates", action="store_true", help="list GX template CDN URLs not pinned here")
    args = parser.parse_args(argv)
    try:
        if args.print_hashes:
            print_hashes()
        elif args.scan_templates:
            unpinned = sorted(url for url in template_urls() if local_path(url) is None)
            print("\n".join(unpinned) if unpinned else "every CDN URL of the GX templates is pinned")
            return 1 if unpinned else 0
        elif args.fetch:
            print(fetch_assets(args.cache_dir))
        elif args.site_dir:
            for path in make_offline(args.site_dir, args.cache_dir):
                print(f"rewrote {path}")
        else:
            parser.error("give a site_dir or one of --fetch, --print-hashes, --scan-templates")
    except OfflineDocsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
