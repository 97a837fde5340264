"""Upload limits, applied before the bytes are read.

A request whose Content-Length exceeds SHIFTBENCH_UPLOAD_MAX_BYTES is refused before anything reads its
body (Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not count file parts). Each file larger than
SHIFTBENCH_UPLOAD_FILE_MAX_BYTES is dropped while it streams in, and named to the form that expected it.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpResponse, JsonResponse
from django.template.defaultfilters import filesizeformat


def size_text(size: int) -> str:
    """``"19.5 KB (20,000 bytes)"``: readable, and exact for comparing with the setting."""
    exact = f"{size:,} bytes"
    return exact if size < 1024 else f"{filesizeformat(size)} ({exact})"


def answers_large_uploads_with(respond):
    """Mark a view whose too-large requests ``respond(request, message)`` answers (its form, with the
    message), instead of a plain 413. Put it outermost, above the other decorators."""

    def decorate(view):
        view.upload_too_large = respond
        return view

    return decorate


class UploadLimitMiddleware:
    """Refuses a request body above SHIFTBENCH_UPLOAD_MAX_BYTES by its Content-Length, unread.

    Listed before CsrfViewMiddleware, whose check would read the body. Nothing is done for the request, so
    no CSRF check is needed to refuse it: a view marked with ``answers_large_uploads_with`` answers with its
    page (to a signed-in user), the API with JSON, anything else with plain text; all with status 413.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        limit = settings.UPLOAD_MAX_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None  # Django reads such a body as empty
        if length <= limit:
            return None
        message = (
            f"The upload is too large: {size_text(length)} in one request; at most {size_text(limit)}. "
            "Nothing was stored."
        )
        respond = getattr(view_func, "upload_too_large", None)
        if respond is not None and request.user.is_authenticated:
            response = respond(request, message)
            response.status_code = 413
            return response
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message}, status=413)
        return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


@dataclass(frozen=True)
class RefusedUpload:
    """A file dropped because it is larger than SHIFTBENCH_UPLOAD_FILE_MAX_BYTES."""

    field: str
    name: str

    @property
    def message(self) -> str:
        limit = settings.UPLOAD_FILE_MAX_BYTES
        return f"{self.name} is too large: a file may have at most {size_text(limit)}."


@dataclass(frozen=True)
class RefusedRequest:
    """A whole request refused unread for its Content-Length (a form shows it above its fields)."""

    message: str
    field = None


def refused_uploads(request) -> list[RefusedUpload]:
    """The files of ``request`` dropped for their size (parses the body if nothing has yet)."""
    request.POST  # noqa: B018 - the body is parsed lazily; the handler records refusals as it goes
    return getattr(request, "refused_uploads", [])


class FileSizeLimitHandler(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS: drops a file the moment it grows past SHIFTBENCH_UPLOAD_FILE_MAX_BYTES.

    SkipFile makes Django close (and so delete) what the next handlers wrote of it and skip the rest of
    it; the file is recorded on the request (``refused_uploads``) for the form to name.
    """

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > settings.UPLOAD_FILE_MAX_BYTES:
            if not hasattr(self.request, "refused_uploads"):
                self.request.refused_uploads = []
            self.request.refused_uploads.append(RefusedUpload(self.field_name, self.file_name))
            raise SkipFile()
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler makes the file
