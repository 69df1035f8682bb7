"""All configuration, read once from the environment and `.env`, validated at start."""

from __future__ import annotations

import base64
import functools
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def parse_secret_keys(spec: str) -> list[tuple[str, bytes]]:
    """SECRET_KEYS, `kid:base64url-32-bytes,kid2:...`, as [(kid, key)], the first one current."""
    keys: list[tuple[str, bytes]] = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        kid, _, encoded = part.partition(":")
        key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)) if encoded else b""
        if not _KEY_ID.match(kid) or len(key) != 32:
            raise ValueError("each key is `id:` followed by 32 bytes in base64url")
        keys.append((kid, key))
    return keys


class SettingsError(SystemExit):
    """A bad or missing setting; exits with one line that names it."""


class Settings(BaseSettings):
    """Every option of the app. Defaults are the embedded profile (no services)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    environment: Literal["development", "production"] = "development"
    public_url: str = Field("http://localhost:3000", pattern=r"^https?://[^/\s]+$")
    # The one port of production (`make run`); under `reflex run` (development) the
    # frontend dev server's port, with the backend on BACKEND_PORT.
    port: int = Field(3000, ge=1, le=65535)
    backend_port: int = Field(8000, ge=1, le=65535)
    # A backend-only run (`reflex run --env prod --backend-only`) also serves the frontend built
    # beforehand with `reflex export --frontend-only` (the app image does both): every replica
    # serves the same build, none builds its own at start (http/frontend.py).
    serve_frontend_build: bool = False

    data_dir: Path = Path("data")
    database_url: str = ""
    workspaces_dir: Path | None = None

    identity_provider: Literal["local", "oidc", "keycloak"] = "local"
    job_runner: Literal["inline", "celery"] = "inline"
    event_bus: Literal["memory", "redis"] = "memory"
    model_backend: Literal["builtin", "openai"] = "builtin"

    # `kid:base64url(32 bytes)`, comma-separated, first one current. Empty in the embedded
    # profile: a key is generated into DATA_DIR/secret.key. Required in production.
    secret_keys: str = ""

    session_cookie_name: str = Field("compymac_session", pattern=r"^[A-Za-z0-9_\-]+$")
    session_ttl_hours: int = Field(24 * 14, ge=1, le=24 * 365)
    cookie_secure: bool | None = None
    # How long the user behind a cookie is remembered per process: a revoked or expired
    # session takes effect at most this long later. 0 resolves it on every event.
    auth_cache_seconds: float = Field(5, ge=0, le=300)
    # Log the stack when the event loop stalls this long (0: off); the browser tests use 50.
    loop_stall_warn_ms: int = Field(0, ge=0, le=60_000)
    # Largest WebSocket frame a browser may send; a larger one closes its connection before
    # it is decoded. The largest event, a message of MAX_MESSAGE_CHARS, is a few hundred KB
    # at most as JSON; uploads go over HTTP.
    ws_max_frame_bytes: int = Field(1_000_000, ge=10_000, le=100_000_000)

    password_min_length: int = Field(10, ge=8, le=128)
    # Who may create an account (local provider): anyone (`open`), a person holding an
    # admin's invite link (`invite`), or nobody (`closed`; the first admin then comes from
    # ADMIN_EMAIL or the bootstrap link printed at start).
    signup: Literal["open", "invite", "closed"] = "open"
    # The account that signs up with this email becomes an admin (whatever SIGNUP says).
    admin_email: str = Field("", max_length=320)
    invite_ttl_hours: int = Field(72, ge=1, le=24 * 60)
    login_max_failures: PositiveInt = 5
    login_window_seconds: PositiveInt = 300

    max_message_chars: PositiveInt = 20_000
    max_title_chars: int = Field(120, ge=1, le=500)
    history_page_size: int = Field(30, ge=5, le=500)

    inline_job_workers: int = Field(4, ge=1, le=64)
    agent_max_steps: int = Field(8, ge=1, le=100)
    # 0 = the builtin agent's reply is published at once; > 0 paces it, for demos only.
    builtin_stream_delay_ms: int = Field(0, ge=0, le=2000)
    # A job's events go out as one batch at most this often (0 = each at once); see publisher.py.
    stream_flush_ms: int = Field(40, ge=0, le=1000)
    event_replay_seconds: int = Field(600, ge=10)

    sandbox_allow_unsandboxed: bool = False
    command_timeout_seconds: float = Field(30, gt=0, le=3600)
    command_cpu_seconds: PositiveInt = 20
    command_memory_mb: int = Field(1024, ge=16)
    command_max_processes: PositiveInt = 256
    command_output_limit: int = Field(64_000, ge=1000)
    file_read_limit: int = Field(200_000, ge=1000)
    # Per-command cgroup (memory + process ceilings): auto uses one where writable, else
    # per-process rlimits; required refuses commands without one; off uses rlimits only.
    command_cgroups: Literal["auto", "required", "off"] = "auto"
    # Disk one workspace may fill; checked before file writes and uploads, and after commands.
    workspace_quota_mb: PositiveInt = 500

    @model_validator(mode="after")
    def _fill_paths(self) -> Settings:
        # Frozen model: derived defaults are written once, here.
        if not self.database_url:
            object.__setattr__(
                self, "database_url", f"sqlite:///{(self.data_dir / 'compymac.db').as_posix()}"
            )
        if self.workspaces_dir is None:
            object.__setattr__(self, "workspaces_dir", self.data_dir / "workspaces")
        if "public_url" not in self.model_fields_set:
            # `make run PORT=8080` alone: the page's origin (the only one accepted) follows.
            object.__setattr__(self, "public_url", f"http://localhost:{self.port}")
        return self

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Settings:
        if self.environment == "production" and not self.secret_keys:
            raise ValueError("SECRET_KEYS is required when ENVIRONMENT=production")
        if self.model_max_output_tokens >= self.model_context_tokens:
            raise ValueError("MODEL_MAX_OUTPUT_TOKENS must be below MODEL_CONTEXT_TOKENS")
        if self.secret_keys:
            parse_secret_keys(self.secret_keys)
        return self

    # --- identity: OIDC / Keycloak (issue 3) ---
    # The issuer URL as it appears in its tokens (Keycloak: <base>/realms/<realm>).
    oidc_issuer: str = Field("", pattern=r"^(https?://\S+[^/])?$")
    oidc_client_id: str = Field("", max_length=255)
    oidc_client_secret: str = Field("", max_length=1000)
    oidc_scopes: str = Field("openid email profile", pattern=r"(^|\s)openid(\s|$)")
    # Shown on the sign-in button: "Continue with <name>".
    oidc_display_name: str = Field("your identity provider", min_length=1, max_length=60)
    # Refresh the access token this long before it expires (capped at half its lifetime).
    oidc_refresh_margin_seconds: int = Field(60, ge=0, le=3600)
    oidc_http_timeout_seconds: float = Field(10, gt=0, le=120)
    # App role -> claims that grant it: `realm:<role>`, `client:<role>` (this client's roles in
    # resource_access), `client:<client id>:<role>`, `group:<group>`. Anything else grants nothing.
    keycloak_role_mapping: dict[Literal["admin", "user"], list[str]] = {
        "admin": ["realm:admin"],
        "user": ["realm:user"],
    }
    # The app role a person must hold to enter; empty lets in everyone the issuer signs in.
    keycloak_required_role: Literal["", "user", "admin"] = "user"
    # Admin page with Keycloak: the Keycloak base URL (default: derived from OIDC_ISSUER).
    keycloak_admin_url: str = Field("", pattern=r"^(https?://\S+[^/])?$")

    # --- agent runtime: models, keys, files (issue 5) ---
    # MODEL_BACKEND=openai offers the server's own model ("server") to every user, and makes
    # it the default; MODEL_* below describe it. MODEL_API_KEY is the server's key.
    model_base_url: str = Field("https://api.openai.com/v1", pattern=r"^https?://\S+$")
    model_name: str = Field("gpt-4o-mini", min_length=1, max_length=200)
    model_api_key: str = ""
    # When a user's key for the model they chose is missing, run on the server model instead
    # of refusing. Off by default: the server key is spent only where the operator allows.
    model_server_fallback: bool = False
    model_context_tokens: int = Field(32_768, ge=1024)
    model_max_output_tokens: int = Field(4096, ge=64)
    model_timeout_seconds: float = Field(60, gt=0, le=600)
    model_max_retries: int = Field(2, ge=0, le=10)
    provider_openai_url: str = Field("https://api.openai.com/v1", pattern=r"^https?://\S+$")
    provider_openrouter_url: str = Field("https://openrouter.ai/api/v1", pattern=r"^https?://\S+$")
    # Users may point a key at their own base URL (vLLM, Ollama...). The server then makes
    # requests to that URL, so it is off by default; when on, private, loopback, link-local
    # and metadata addresses are refused unless listed in MODEL_URL_ALLOWLIST.
    allow_custom_base_url: bool = False
    # Comma-separated hosts (`vllm.internal`) and networks (`10.1.2.0/24`, `127.0.0.1`) a
    # custom base URL may reach even though they are private.
    model_url_allowlist: str = ""
    upload_max_bytes: int = Field(5_000_000, ge=1000)
    # Attachments: workspace files sent with a message. At most this many per message, each
    # at most ATTACHMENT_MAX_BYTES; text is included up to FILE_READ_LIMIT characters.
    attachments_per_message: int = Field(5, ge=1, le=20)
    attachment_max_bytes: int = Field(5_000_000, ge=1000, le=50_000_000)
    # Models that are sent attached images: comma-separated names, `*` matches anything
    # (case-insensitive). Other models get a note that an image was attached.
    model_vision_models: str = (
        "gpt-4o*,gpt-4.1*,gpt-4-turbo*,gpt-5*,o1*,o3*,o4*,*claude-3*,*claude-sonnet*,"
        "*claude-opus*,*gemini*,*llava*,*vision*,*pixtral*,*qwen*-vl*"
    )
    # Exports and imports: the largest account export (messages + workspace files), and the
    # most an imported zip may unpack to.
    export_max_mb: PositiveInt = 500
    import_max_mb: PositiveInt = 200

    # --- production profile: celery, redis, postgres (issue 4) ---
    # Connection pool per process (PostgreSQL; SQLite keeps SQLAlchemy's own default).
    db_pool_size: int = Field(5, ge=1, le=200)
    db_max_overflow: int = Field(10, ge=0, le=500)
    db_pool_timeout_seconds: float = Field(30, gt=0, le=600)
    db_pool_recycle_seconds: int = Field(1800, ge=-1)
    # Event bus, rate limits and (by default) the Celery broker.
    redis_url: str = Field("redis://127.0.0.1:6379/0", pattern=r"^rediss?://")
    # Empty: the broker is REDIS_URL.
    celery_broker_url: str = Field("", pattern=r"^(rediss?://.*)?$")
    # Turns one user may have running at once; more wait in line, with their place shown.
    jobs_per_user: int = Field(2, ge=1, le=100)
    job_time_limit_seconds: int = Field(900, ge=1, le=86_400)
    job_heartbeat_seconds: float = Field(5, gt=0, le=300)
    # A running job silent this long is retried (or failed after JOB_MAX_ATTEMPTS) by the reaper.
    job_stale_seconds: PositiveFloat = 30
    job_max_attempts: int = Field(2, ge=1, le=10)
    reaper_interval_seconds: PositiveFloat = 10
    # Where throttles count: memory (one process) or redis (shared by every process).
    rate_limit_store: Literal["memory", "redis"] = "memory"
    signups_per_hour_per_ip: PositiveInt = 10
    auth_starts_per_minute_per_ip: PositiveInt = 30
    # Reverse proxies in front of the app that append to X-Forwarded-For. 0: the peer address
    # is the client (a client-sent X-Forwarded-For is ignored: anyone can write one).
    trusted_proxy_hops: int = Field(0, ge=0, le=10)
    messages_per_minute: PositiveInt = 20
    uploads_per_minute: PositiveInt = 30
    # /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; empty turns it off (404).
    metrics_token: str = ""
    # text: plain lines for a terminal; json: one JSON object per line with request and job
    # ids, secrets redacted (the compose file sets json).
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # --- security: origins (issue 9) ---
    # Origins besides PUBLIC_URL's that may open the app's WebSocket and read its responses
    # (CORS), comma-separated `scheme://host[:port]`. Every other Origin is refused.
    allowed_origins: str = Field("", pattern=r"^(https?://[^/\s,]+(\s*,\s*https?://[^/\s,]+)*)?$")

    # --- accounts: self-service, mail, audit (issue 12) ---
    # How mail leaves: `console` writes each message (a reset link) to the log, for the
    # embedded profile; `smtp` sends it through SMTP_HOST.
    mailer: Literal["console", "smtp"] = "console"
    smtp_host: str = Field("", max_length=255)
    smtp_port: int = Field(587, ge=1, le=65535)
    # starttls (port 587), ssl (implicit TLS, port 465) or none (a relay on localhost only).
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_username: str = Field("", max_length=320)
    smtp_password: str = Field("", max_length=1000)
    smtp_timeout_seconds: float = Field(10, gt=0, le=120)
    mail_from: str = Field("CompyMac RX <noreply@localhost>", min_length=3, max_length=320)
    # A password-reset link works once, for this long.
    password_reset_ttl_minutes: int = Field(30, ge=5, le=24 * 60)
    # Reset requests per email per hour (four times as many per IP).
    password_resets_per_hour: int = Field(5, ge=1, le=1000)
    # Local accounts' email addresses: `off` (never asked), `optional` (a link is mailed at
    # sign-up and a banner asks until it is used), `required` (no sign-in until it is used).
    email_verification: Literal["off", "optional", "required"] = "off"
    email_verification_ttl_hours: int = Field(24, ge=1, le=24 * 14)
    # Sign in by a link mailed to the account's address (local provider).
    magic_link: bool = False
    magic_link_ttl_minutes: int = Field(15, ge=2, le=120)
    # Verification and sign-in links mailed per email per hour (four times as many per IP).
    mail_links_per_hour: int = Field(5, ge=1, le=1000)
    # The name an authenticator app shows beside a TOTP code.
    totp_issuer: str = Field("CompyMac RX", min_length=1, max_length=60)
    # Audit events older than this are deleted (checked as events are written); 0 keeps all.
    audit_retention_days: int = Field(365, ge=0, le=3650)

    @model_validator(mode="after")
    def _smtp_needs_host(self) -> Settings:
        if self.mailer == "smtp" and not self.smtp_host:
            raise ValueError("SMTP_HOST is required when MAILER=smtp")
        return self

    @model_validator(mode="after")
    def _allowlist_parses(self) -> Settings:
        import ipaddress

        for entry in filter(None, (e.strip() for e in self.model_url_allowlist.split(","))):
            if "/" in entry:  # anything else that is not an address is a host name
                try:
                    ipaddress.ip_network(entry.strip("[]"), strict=False)
                except ValueError:
                    raise ValueError(f"MODEL_URL_ALLOWLIST: {entry!r} is not a network") from None
        return self

    @model_validator(mode="after")
    def _stale_after_heartbeats(self) -> Settings:
        if self.job_stale_seconds < 2 * self.job_heartbeat_seconds:
            raise ValueError("JOB_STALE_SECONDS must be at least twice JOB_HEARTBEAT_SECONDS")
        return self

    @property
    def broker_url(self) -> str:
        return self.celery_broker_url or self.redis_url

    @model_validator(mode="after")
    def _oidc_needs_client(self) -> Settings:
        if self.identity_provider in ("oidc", "keycloak"):
            for name in ("oidc_issuer", "oidc_client_id", "oidc_client_secret"):
                if not getattr(self, name):
                    raise ValueError(
                        f"{name.upper()} is required when IDENTITY_PROVIDER="
                        f"{self.identity_provider}"
                    )
            if "${" in self.oidc_client_secret:
                # An unexpanded placeholder (compose or realm file): a secret anyone can read.
                raise ValueError("OIDC_CLIENT_SECRET still contains `${`: pass the real secret")
            if self.environment == "production" and "change-me" in self.oidc_client_secret:
                raise ValueError("OIDC_CLIENT_SECRET is still the placeholder")
        return self

    @property
    def keycloak_realm(self) -> str:
        return self.oidc_issuer.rsplit("/realms/", 1)[-1]

    @property
    def keycloak_base_url(self) -> str:
        return self.keycloak_admin_url or self.oidc_issuer.rsplit("/realms/", 1)[0]

    @property
    def workspaces_root(self) -> Path:
        assert self.workspaces_dir is not None
        return self.workspaces_dir

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.public_url.startswith("https://")


_SECRET_WORDS = ("KEY", "SECRET", "PASSWORD", "TOKEN")


def _one_line(error: ValidationError) -> str:
    first = error.errors()[0]
    name = ".".join(str(part) for part in first["loc"]).upper() or "SETTINGS"
    # Never echo what might be a secret: the message may end up in a log.
    secret = not first["loc"] or any(w in name for w in _SECRET_WORDS)
    shown = "" if secret else f" (got {first.get('input')!r})"
    return f"Invalid setting {name}: {first['msg']}{shown}"


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment; a bad value exits with one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise SettingsError(_one_line(error)) from None


@functools.cache
def get_settings() -> Settings:
    return load_settings()
