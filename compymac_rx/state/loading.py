"""What a page needs when it opens, gathered in one blocking call (run it off the loop)."""

from __future__ import annotations

import dataclasses
import logging

from compymac_rx.chats import service as chats
from compymac_rx.chats.models import MessagePublic, SessionPublic
from compymac_rx.files import service as files
from compymac_rx.jobs.bus import get_bus
from compymac_rx.jobs.events import BusUnavailable, JobEvent
from compymac_rx.jobs.models import JobPublic
from compymac_rx.keys import choice as model_choice
from compymac_rx.settings import get_settings

log = logging.getLogger(__name__)


@dataclasses.dataclass
class OpenedPage:
    sessions: list[SessionPublic]
    session: SessionPublic | None = None
    model: str = ""
    model_choices: list[list[str]] = dataclasses.field(default_factory=list)
    messages: list[MessagePublic] = dataclasses.field(default_factory=list)
    has_older: bool = False
    files: list[files.FileEntry] = dataclasses.field(default_factory=list)
    job: JobPublic | None = None
    # The running turn's events so far, to fold into the live view.
    replay: list[JobEvent] = dataclasses.field(default_factory=list)


def open_page(user_id: str, session_id: str, show_archived: bool, hit_seq: int = 0) -> OpenedPage:
    """The sidebar, and the session at `session_id` if it is the user's ("" for none).

    With `hit_seq` (a search hit), older pages are loaded until that message is among them.
    """
    page = OpenedPage(sessions=chats.list_sessions(user_id, archived=show_archived))
    if not session_id or (found := chats.get_session(user_id, session_id)) is None:
        return page
    page.session = found
    page.model = model_choice.resolve_choice(user_id, chats.get_session_model(user_id, session_id))
    page.model_choices = [[value, label] for value, label in model_choice.model_choices(user_id)]
    page_size = get_settings().history_page_size
    page.messages = chats.load_messages(user_id, session_id)
    page.has_older = len(page.messages) >= page_size
    while hit_seq and page.has_older and page.messages[0].seq > hit_seq:
        older = chats.load_messages(user_id, session_id, before_seq=page.messages[0].seq)
        page.messages = older + page.messages
        page.has_older = len(older) >= page_size
    page.files = files.list_tree(user_id, session_id)
    if (job := chats.active_job(user_id, session_id)) is not None:
        page.job = job
        try:
            page.replay = get_bus().replay(job.id)
        except BusUnavailable:
            # The turn's stored messages are on the page; its live part resumes with the bus.
            log.warning("job %s: no replay while the bus is unreachable", job.id)
    return page
