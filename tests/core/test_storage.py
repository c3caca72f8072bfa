"""The static files storage keeps each URL it has worked out; what it returns is WhiteNoise's own answer."""

from whitenoise.storage import CompressedManifestStaticFilesStorage

from apps.core.storage import StaticStorage


def test_each_url_is_the_manifests_and_is_worked_out_once(tmp_path, settings):
    settings.DEBUG = False
    storage, plain = (
        cls(location=tmp_path, base_url="/static/") for cls in (StaticStorage, CompressedManifestStaticFilesStorage)
    )
    for each in (storage, plain):
        each.hashed_files = {"css/site.css": "css/site.4e9e.css"}

    assert storage.url("css/site.css") == plain.url("css/site.css") == "/static/css/site.4e9e.css"
    storage.hashed_files = {}  # a manifest that no longer names it: the URL kept is still given
    assert storage.url("css/site.css") == "/static/css/site.4e9e.css"
