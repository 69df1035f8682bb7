"""/sessions/{id}/files: list, upload and download workspace files."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import StreamingResponse

from compymac_rx.api.auth import Reader, Writer
from compymac_rx.api.problems import ApiProblem, not_found
from compymac_rx.api.schemas import FileOut
from compymac_rx.files import service as files
from compymac_rx.files.http import SAFE_HEADERS, FdStream, content_disposition
from compymac_rx.offload import off_loop
from compymac_rx.settings import get_settings

router = APIRouter(prefix="/sessions/{session_id}/files", tags=["files"])


def refusal(error: files.FileError) -> ApiProblem:
    if isinstance(error, files.UploadsLimited):
        return ApiProblem(429, str(error), headers={"Retry-After": str(error.wait)})
    if "not yours" in str(error):
        return not_found()
    return ApiProblem(400, str(error))


@router.get("")
async def list_files(token: Reader, session_id: str) -> list[FileOut]:
    try:
        entries = await off_loop(files.list_tree, token.user_id, session_id)
    except files.FileError as error:
        raise refusal(error) from None
    return [FileOut.of(entry) for entry in entries]


@router.post("", status_code=201)
async def upload_file(
    token: Writer, session_id: str, file: Annotated[UploadFile, File()]
) -> FileOut:
    """Store one file at the workspace's top level (its name made safe); replaces one there."""
    limit = get_settings().upload_max_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise ApiProblem(413, f"Files can be at most {limit:,} bytes.")
    try:
        name = await off_loop(
            files.save_upload, token.user_id, session_id, file.filename or "upload", data
        )
    except files.FileError as error:
        raise refusal(error) from None
    return FileOut(path=name, name=name, is_dir=False, size=len(data))


@router.get(
    "/{path:path}",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The file"}},
)
async def download_file(token: Reader, session_id: str, path: str) -> StreamingResponse:
    try:
        found = await off_loop(files.open_for_download, token.user_id, session_id, path)
    except files.FileError:
        raise not_found() from None
    stream = FdStream(found.fd, found.size)
    return StreamingResponse(
        stream.chunks(),
        media_type="application/octet-stream",
        headers={
            **SAFE_HEADERS,
            "Content-Length": str(found.size),
            "Content-Disposition": content_disposition(
                "attachment", PurePosixPath(found.name).name
            ),
        },
    )
