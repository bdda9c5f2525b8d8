"""API resource: assets (list and semantic search, upload, read, edit, delete)."""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from recommender.errors import ValidationError
from web.api.common import access, clamp_per_page
from web.api.schemas import (
    AssetPageSchema,
    AssetPatchSchema,
    AssetQuerySchema,
    AssetSchema,
    AssetUploadSchema,
)
from web.auth import principal_name
from web.db import get_baton, get_session
from web.services.content import editing
from web.services.content.ingest import ingest_upload
from web.services.queries import library
from web.services.queries.library import LibraryFilters


class _MultipartParser(FlaskParser):
    """webargs parser with a ``multipart`` location: form fields and files in one schema."""

    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def load_multipart(self, req, schema):
        return MultiDictProxy(CombinedMultiDict([req.files, req.form]), schema)


class _AssetsBlueprint(Blueprint):
    # One schema for file + metadata, documented as one multipart/form-data request body.
    ARGUMENTS_PARSER = _MultipartParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             "multipart": "multipart/form-data"}


blp = _AssetsBlueprint("assets", __name__, url_prefix="/api/v1/assets",
                description="The content library: search, upload and curate assets.")

LIST_FIELDS = ("personas", "industries", "products")
ASSET_FIELDS = tuple(AssetSchema().fields)
MAX_SEARCH = 1000  # semantic search ranks at most this many hits (page * per_page)


def _stage(value: str | None) -> str:
    """Return the buying stage for a buying- or pipeline-stage name (unknown raises)."""
    if not value:
        return ""
    buying = get_baton().stages.resolve_buying_stage(value)
    if buying is None:
        raise ValidationError(f"stage {value!r} is a closing stage with no buying stage")
    return buying


def _filters(query: dict) -> LibraryFilters:
    """Return the library filters of a list request (``status=all`` means any status)."""
    return LibraryFilters(
        q=(query.get("q") or "").strip(), stage=_stage(query.get("stage")),
        type=query.get("type") or "",
        persona=(query.get("persona") or "").strip().casefold(),
        industry=(query.get("industry") or "").strip().casefold(),
        status="" if query["status"] == "all" else query["status"])


def _hit(match: library.AssetMatch) -> dict:
    item = {name: getattr(match.asset, name) for name in ASSET_FIELDS}
    item.update(score=round(match.score, 4), passage=match.passage)
    return item


@blp.route("")
class Assets(MethodView):
    @access(blp, "rep")
    @blp.arguments(AssetQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, AssetPageSchema)
    def get(self, **query):
        """List assets by stage, type, persona and industry; rank by meaning with `q`."""
        baton, session = get_baton(), get_session()
        per_page = clamp_per_page(query["per_page"], baton.settings.page_size_max)
        filters = _filters(query)
        if filters.q:
            found = library.search_page(baton, session, filters, query["page"], per_page,
                                        MAX_SEARCH, cards=False)
            items = [_hit(match) for match in found.items]
        else:
            found = library.asset_page(session, filters, query["page"], per_page, cards=False)
            items = found.items
        return {"items": items, "page": found.page, "per_page": per_page, "total": found.total}

    @access(blp, "marketer")
    @blp.arguments(AssetUploadSchema, location="multipart")
    @blp.response(201, AssetSchema)
    @blp.alt_response(413, description="the file is larger than BATON_MAX_FILE_MB")
    def post(self, form):
        """Upload a file with its metadata; it is extracted, tagged and embedded at once."""
        baton = get_baton()
        upload = form.pop("file")
        data = upload.read(baton.settings.max_file_bytes + 1)
        upload.close()  # a large upload is spooled to a temporary file: release it now
        if len(data) > baton.settings.max_file_bytes:
            raise RequestEntityTooLarge(
                f"the file is larger than {baton.settings.max_file_mb:g} MB (BATON_MAX_FILE_MB)")
        metadata = {k: v for k, v in form.items() if v not in (None, "")}
        for key in LIST_FIELDS:
            if key in metadata:
                metadata[key] = [p.strip() for p in metadata[key].split(",") if p.strip()]
        if "owner" not in metadata:
            metadata["owner"] = principal_name()
        asset_id = ingest_upload(baton, upload.filename or "upload", data, metadata)
        asset = library.listed_asset(get_session(), asset_id)
        return asset, 201, {"Location": url_for("assets.AssetResource", asset_id=asset_id)}


@blp.route("/<asset_id>")
class AssetResource(MethodView):
    @access(blp, "rep")
    @blp.response(200, AssetSchema)
    def get(self, asset_id: str):
        """Return one asset's metadata and tags."""
        return library.listed_asset(get_session(), asset_id)

    @access(blp, "marketer")
    @blp.arguments(AssetPatchSchema)
    @blp.response(200, AssetSchema)
    def patch(self, changes: dict, asset_id: str):
        """Change an asset's metadata; a given stage counts as confirmed."""
        session = get_session()
        editing.update_asset(get_baton(), session, asset_id, changes)
        session.expire_all()
        return library.listed_asset(session, asset_id)

    @access(blp, "marketer")
    @blp.response(204)
    def delete(self, asset_id: str):
        """Delete an asset: it is never recommended again."""
        session = get_session()
        library.listed_asset(session, asset_id)
        editing.delete_asset(get_baton(), session, asset_id)
        return None

