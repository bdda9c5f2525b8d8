"""API resource: assets (list and semantic search, upload, read, edit, delete)."""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import String, cast, func, select
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from models import Asset
from recommender.errors import NotFoundError
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


def _stage(value: str | None) -> str | None:
    """Return the buying stage for a buying- or pipeline-stage name (unknown raises)."""
    if not value:
        return None
    return get_baton().stages.resolve_buying_stage(value)


def _filtered(query: dict):
    """Return the SELECT of assets matching the list filters (tags match as JSON strings)."""
    stmt = select(Asset)
    if query["status"] != "all":
        stmt = stmt.where(Asset.status == query["status"])
    if query.get("stage"):
        stmt = stmt.where(Asset.stage == _stage(query["stage"]))
    if query.get("type"):
        stmt = stmt.where(Asset.type == query["type"])
    for key, column in (("persona", Asset.personas), ("industry", Asset.industries)):
        value = (query.get(key) or "").strip().casefold()
        if value:
            stmt = stmt.where(cast(column, String).like(f'%"{value}"%'))
    return stmt


def get_asset_or_404(asset_id: str) -> Asset:
    """Return the asset; unknown and deleted (retired) assets are 404."""
    asset = get_session().get(Asset, asset_id)
    if asset is None or asset.status == "retired":  # retired = deleted through the API
        raise NotFoundError(f"unknown asset {asset_id!r}")
    return asset


@blp.route("")
class Assets(MethodView):
    @access(blp, "rep")
    @blp.arguments(AssetQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, AssetPageSchema)
    def get(self, **query):
        """List assets by stage, type, persona and industry; rank by meaning with `q`."""
        baton, session = get_baton(), get_session()
        per_page = clamp_per_page(query["per_page"], baton.settings.page_size_max)
        page = query["page"]
        offset = (page - 1) * per_page
        q = (query.get("q") or "").strip()
        if q:
            from web.services.content.ingest import search_assets

            k = min(page * per_page, MAX_SEARCH)
            hits = search_assets(baton, session, q, k=k, stage=_stage(query.get("stage")),
                                 type=query.get("type"), persona=query.get("persona"),
                                 industry=query.get("industry")) if offset < k else []
            window = hits[offset:offset + per_page]
            rows = {a.id: a for a in session.scalars(
                select(Asset).where(Asset.id.in_([h.asset_id for h in window])))}
            items = []
            for hit in window:
                if hit.asset_id in rows:
                    asset = rows[hit.asset_id]
                    item = {name: getattr(asset, name) for name in ASSET_FIELDS}
                    item.update(score=round(float(hit.score), 4), passage=hit.passage)
                    items.append(item)
            total = len(hits) if len(hits) < k else session.scalar(
                select(func.count()).select_from(_filtered(query).subquery()))
            return {"items": items, "page": page, "per_page": per_page, "total": total}
        stmt = _filtered(query)
        total = session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = session.scalars(stmt.order_by(Asset.title, Asset.id).offset(offset)
                               .limit(per_page)).all()
        return {"items": rows, "page": page, "per_page": per_page, "total": total}

    @access(blp, "marketer")
    @blp.arguments(AssetUploadSchema, location="multipart")
    @blp.response(201, AssetSchema)
    @blp.alt_response(413, description="the file is larger than BATON_MAX_FILE_MB")
    def post(self, form):
        """Upload a file with its metadata; it is extracted, tagged and embedded at once."""
        from web.services.content.ingest import ingest_upload

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
        asset = get_asset_or_404(asset_id)
        return asset, 201, {"Location": url_for("assets.AssetResource", asset_id=asset_id)}


@blp.route("/<asset_id>")
class AssetResource(MethodView):
    @access(blp, "rep")
    @blp.response(200, AssetSchema)
    def get(self, asset_id: str):
        """Return one asset's metadata and tags."""
        return get_asset_or_404(asset_id)

    @access(blp, "marketer")
    @blp.arguments(AssetPatchSchema)
    @blp.response(200, AssetSchema)
    def patch(self, changes: dict, asset_id: str):
        """Change an asset's metadata; a given stage counts as confirmed."""
        from web.services.content.ingest import update_asset

        update_asset(get_baton(), get_session(), asset_id, changes)
        session = get_session()
        session.expire_all()
        return get_asset_or_404(asset_id)

    @access(blp, "marketer")
    @blp.response(204)
    def delete(self, asset_id: str):
        """Delete an asset: it is never recommended again."""
        from web.services.content.ingest import delete_asset

        get_asset_or_404(asset_id)
        delete_asset(get_baton(), get_session(), asset_id)
        return None

