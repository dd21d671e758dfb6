"""Request and response bodies (the OpenAPI schema is generated from these)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from api.passwords import MIN_PASSWORD_LENGTH, password_problem
from api.roles import API_TOKEN_SCOPES
from clipped.effects import ClipEffects
from clipped.publish.models import Platform, Privacy
from clipped.publish.records import AccountHealth, PublicationStatus
from clipped.render.captions_ass import CAPTION_STYLES
from clipped.render.versions import MAX_VARIATIONS

Role = Literal["viewer", "editor", "admin", "owner"]
Scope = Literal[tuple(API_TOKEN_SCOPES)]  # type: ignore[valid-type]
CaptionStyle = Literal[CAPTION_STYLES]  # type: ignore[valid-type]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _email(value: str) -> str:
    value = value.strip().lower()
    local, _, domain = value.partition("@")
    if not local or "." not in domain or " " in value or len(value) > 320:
        raise ValueError("not a valid email address")
    return value


class RegisterIn(Strict):
    email: str = Field(max_length=320)
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=256)
    display_name: str | None = Field(default=None, max_length=120)

    _check_email = field_validator("email")(_email)

    @field_validator("password")
    @classmethod
    def _check_password(cls, value: str, info: ValidationInfo) -> str:
        problem = password_problem(value, info.data.get("email"))
        if problem is not None:
            raise ValueError(problem)
        return value


class LoginIn(Strict):
    email: str = Field(max_length=320)
    password: str = Field(max_length=256)

    _check_email = field_validator("email")(_email)


class RefreshIn(Strict):
    refresh_token: str = Field(max_length=200)


class UserOut(BaseModel):
    id: str
    email: str
    display_name: str


class WorkspaceOut(BaseModel):
    id: str
    name: str
    role: Role


class RegisterOut(BaseModel):
    user: UserOut
    workspace: WorkspaceOut


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class MeOut(BaseModel):
    user: UserOut
    workspaces: list[WorkspaceOut]


class WorkspaceIn(Strict):
    name: str = Field(min_length=1, max_length=120)


class InvitationIn(Strict):
    email: str = Field(max_length=320)
    role: Role = "editor"

    _check_email = field_validator("email")(_email)


class InvitationOut(BaseModel):
    id: str
    workspace_id: str
    email: str
    role: Role
    invited_by: str = Field(description="User id of whoever sent it")
    expires_at: datetime
    created_at: datetime


class InvitationCreated(InvitationOut):
    token: str = Field(description="Shown once (only its hash is stored): give it to the invitee, who accepts with it")


class InvitationTokenIn(Strict):
    token: str = Field(min_length=1, max_length=200)


class MemberPatch(Strict):
    role: Role


class MemberOut(BaseModel):
    user: UserOut
    role: Role
    created_at: datetime


class ApiTokenIn(Strict):
    name: str = Field(min_length=1, max_length=120)
    scopes: list[Scope] = Field(min_length=1)  # type: ignore[valid-type]
    expires_in_days: int = Field(default=30, ge=1, le=365)


class ApiTokenOut(BaseModel):
    id: str
    name: str
    scopes: list[str]
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime


class ApiTokenCreated(ApiTokenOut):
    token: str = Field(description="Shown once; only its hash is stored")


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class JobSettings(Strict):
    max_clips: int = Field(default=5, ge=1, le=50)
    min_duration_s: float = Field(default=15.0, gt=0, le=600)
    max_duration_s: float = Field(default=90.0, gt=0, le=600)
    aspect: Literal["9:16", "1:1", "16:9"] = "9:16"
    caption_style: CaptionStyle = "highlight_word"
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")
    effects: ClipEffects = Field(default_factory=ClipEffects, description="Caption look, platform, hook, profanity")

    @model_validator(mode="after")
    def _bounds(self) -> JobSettings:
        if self.min_duration_s >= self.max_duration_s:
            raise ValueError("min_duration_s must be below max_duration_s")
        return self


class JobIn(Strict):
    source_url: str | None = Field(default=None, max_length=2000)
    upload_id: str | None = Field(default=None, max_length=40)
    settings: JobSettings = Field(default_factory=JobSettings)

    @model_validator(mode="after")
    def _one_source(self) -> JobIn:
        if (self.source_url is None) == (self.upload_id is None):
            raise ValueError("give exactly one of source_url or upload_id")
        return self


class JobSource(BaseModel):
    kind: Literal["url", "upload", "file"]
    display_name: str


class JobStep(BaseModel):
    name: str
    status: Literal["pending", "running", "succeeded", "failed", "skipped"]
    started_at: datetime | None
    ended_at: datetime | None
    duration_s: float | None


class ChapterOut(BaseModel):
    start_s: float
    end_s: float
    title: str


class JobSummaryOut(BaseModel):
    """A job's source summarized: ``ready`` is false until its source_summary step has run."""

    ready: bool
    method: str | None = None  # "claude" or "extractive"
    summary: str = ""
    key_points: list[str] = Field(default_factory=list)
    chapters: list[ChapterOut] = Field(default_factory=list)
    fallback_reason: str | None = None


class JobOut(BaseModel):
    id: str
    workspace_id: str
    status: Literal["queued", "running", "succeeded", "failed", "canceled"]
    source: JobSource
    settings: dict
    created_at: datetime
    updated_at: datetime = Field(description="The job's or its run's latest change (a step's progress included)")
    run_id: str | None
    error: str | None = None
    progress: float = Field(description="0..1, each step weighted by its expected share of the run's time")
    seconds_left: float | None = Field(default=None, description="Estimated time left while running, else null")
    steps: list[JobStep]
    clip_count: int
    thumbnail_url: str | None = Field(
        default=None, description="In job lists: a signed link to the best clip's thumbnail, once there are clips"
    )


class StreamTokenOut(BaseModel):
    url: str = Field(description="The job's event stream with the token in it, for EventSource")
    token: str = Field(description="Valid only as ?token= on this job's event stream")
    expires_at: datetime = Field(description="Connect before this; an open stream is not cut at expiry")


class Page(BaseModel):
    page: int
    limit: int
    total: int


class JobPage(Page):
    items: list[JobOut]


class UploadIn(Strict):
    filename: str = Field(min_length=1, max_length=500)
    content_type: str = Field(max_length=100)
    size: int = Field(ge=1)


class UploadTicket(BaseModel):
    upload_id: str
    method: Literal["PUT", "POST"]
    url: str
    headers: dict[str, str]
    fields: dict[str, str] = Field(
        default_factory=dict, description="For method POST: multipart form fields to send before the file ('file')"
    )
    expires_at: datetime


class UploadOut(BaseModel):
    upload_id: str
    size: int
    content_type: str


ClipStatus = Literal["proposed", "approved", "rejected"]


class ClipOut(BaseModel):
    id: str
    job_id: str
    workspace_id: str
    rank: int
    score: float
    scores: dict[str, float] = Field(default_factory=dict, description="Sub-scores 0..1: hook, flow, value, energy")
    title: str
    description: str
    hashtags: list[str]
    hook: str = Field(default="", description="3–6 words for an on-screen overlay, from the ranker")
    post_captions: dict[str, str] = Field(
        default_factory=dict, description="Caption text per platform from the ranker (hashtags are added on posting)"
    )
    reason: str
    start_s: float
    end_s: float
    duration_s: float
    status: ClipStatus
    version: int
    caption_style: str
    video_url: str
    thumbnail_url: str
    created_at: datetime
    updated_at: datetime


class ClipPage(Page):
    items: list[ClipOut]


class ClipPatch(Strict):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=5000)
    hashtags: list[str] | None = Field(default=None, max_length=30)

    @field_validator("hashtags")
    @classmethod
    def _tags(cls, tags: list[str] | None) -> list[str] | None:
        if tags is None:
            return None
        cleaned = []
        for tag in tags:
            tag = tag.strip().lstrip("#")
            if not tag or len(tag) > 60 or not all(ch.isalnum() or ch == "_" for ch in tag):
                raise ValueError("hashtags are letters, digits and '_' (up to 60), with or without a leading '#'")
            if tag not in cleaned:
                cleaned.append(tag)
        return cleaned


class RerenderIn(Strict):
    caption_style: CaptionStyle | None = None
    effects: ClipEffects | None = Field(default=None, description="Finishing options; none: the job's settings")
    start_s: float | None = Field(default=None, ge=0, description="Trim: new start in the source, snapped to a word")
    end_s: float | None = Field(default=None, gt=0, description="Trim: new end in the source, snapped to a word")
    caption_text: str | None = Field(
        default=None,
        min_length=1,
        max_length=20_000,
        description="The captions' words with misheard ones fixed; each keeps the time of the words it replaces",
    )

    def edits(self) -> dict[str, object]:
        return self.model_dump(include={"start_s", "end_s", "caption_text", "effects"}, exclude_none=True)


class WordOut(BaseModel):
    word: str
    start_s: float
    end_s: float


class ClipTranscriptOut(BaseModel):
    start_s: float = Field(description="The current version's window in the source")
    end_s: float
    hook_end_s: float = Field(description="Where the hook (the opening words, about 3 s) ends")
    words: list[WordOut] = Field(description="The captions' words as the current version shows them")
    context: list[WordOut] = Field(description="The source transcript's words around the clip: what a trim can reach")


class VariationsIn(Strict):
    count: int = Field(default=3, ge=2, le=MAX_VARIATIONS, description="How many variants, the clip as ranked first")


class VariantOut(BaseModel):
    version: int = Field(description="The clip version the variant is (play, approve and download it as one)")
    hook: str
    caption_style: str
    layout: str
    start_s: float
    end_s: float
    duration_s: float
    uniqueness: dict[str, float] = Field(
        description="Against the most similar other variant: frames, audio, overall (0 identical, ~0.5 unrelated)"
    )
    status: Literal["rendering", "ready", "failed"]
    video_url: str | None = None
    thumbnail_url: str | None = None


class VariationsOut(BaseModel):
    rendering: bool = Field(description="A set of variations (or another version) of the clip is being rendered")
    variants: list[VariantOut] = Field(description="The latest rendered set; empty before the first")


class ClipVersionOut(BaseModel):
    version: int
    caption_style: str
    status: Literal["rendering", "ready", "failed"]
    created_at: datetime
    video_url: str
    error: str | None = None


class BatchIn(Strict):
    action: Literal["approve", "reject", "delete"]
    ids: list[str] = Field(min_length=1, max_length=200)


class BatchOut(BaseModel):
    updated: list[str]


class CommentIn(Strict):
    body: str = Field(min_length=1, max_length=5000)
    at_s: float = Field(ge=0, le=24 * 3600)


class CommentAuthor(BaseModel):
    id: str
    display_name: str


class CommentOut(BaseModel):
    id: str
    author: CommentAuthor
    body: str
    at_s: float
    created_at: datetime


class CaptionStyleOut(BaseModel):
    id: str
    name: str
    description: str


# Publishing: connected platform accounts and the posts scheduled to them. Tokens never appear in any of these.

_HH_MM = r"^([01]\d|2[0-3]):[0-5]\d$"


class PlatformOut(BaseModel):
    id: Platform
    name: str
    configured: bool = Field(description="Whether this server has an app on the platform (accounts can connect)")
    caption_max: int
    max_duration_s: float


class PlanOut(BaseModel):
    cadence_hours: float
    window_start: str
    window_end: str
    timezone: str
    jitter_minutes: int


class PlanPatch(Strict):
    cadence_hours: float | None = Field(
        default=None, gt=0, le=24 * 30, description="At most one post per this many hours"
    )
    window_start: str | None = Field(default=None, pattern=_HH_MM, description="Local time posts may start (HH:MM)")
    window_end: str | None = Field(default=None, pattern=_HH_MM, description="Local time posts stop (HH:MM)")
    timezone: str | None = Field(default=None, min_length=1, max_length=64, description="IANA zone, e.g. Europe/Paris")
    jitter_minutes: int | None = Field(default=None, ge=0, le=240, description="Random offset added to each slot")


class AccountOut(BaseModel):
    id: str
    workspace_id: str
    platform: Platform
    display_name: str
    health: AccountHealth
    health_detail: str
    rate_limited_until: datetime | None
    plan: PlanOut
    last_post_at: datetime | None
    connected_at: datetime
    updated_at: datetime


class AccountPatch(Strict):
    plan: PlanPatch | None = None
    disabled: bool | None = Field(default=None, description="true: nothing posts to it; false: active again")


class ConnectIn(Strict):
    platform: Platform


class ConnectOut(BaseModel):
    authorize_url: str = Field(description="Open this in the browser that made the request (the flow is bound to it)")
    expires_at: datetime


class PublicationsIn(Strict):
    account_ids: list[str] = Field(min_length=1, max_length=20)
    at: datetime | None = Field(
        default=None,
        description="When to post (with a time zone). Null: each account's next free slot in its posting plan",
    )
    privacy: Privacy = "public"

    @field_validator("account_ids")
    @classmethod
    def _distinct(cls, ids: list[str]) -> list[str]:
        if any(not 0 < len(account_id) <= 64 for account_id in ids):
            raise ValueError("account ids are 1 to 64 characters")
        if len(set(ids)) != len(ids):
            raise ValueError("each account at most once")
        return ids

    @field_validator("at")
    @classmethod
    def _aware(cls, at: datetime | None) -> datetime | None:
        if at is not None and at.utcoffset() is None:
            raise ValueError("give the time zone (e.g. 2030-01-01T18:00:00Z)")
        return at


class PublicationOut(BaseModel):
    id: str
    workspace_id: str
    clip_id: str
    clip_title: str = ""
    clip_version: int
    account_id: str
    account_name: str = Field(default="", description="Empty when the account was disconnected")
    platform: Platform
    title: str
    caption: str
    privacy: Privacy
    scheduled_at: datetime
    next_attempt_at: datetime | None
    status: PublicationStatus
    attempts: int
    post_url: str
    error: str
    run_id: str
    created_at: datetime
    published_at: datetime | None


# Analytics: the dbt marts read for the dashboard (README "Analytics dashboard"). Every answer says whether the
# workspace has data yet; without any it is the same shape with empty lists, never an error.
AnalyticsMetric = Literal["views", "engagement_rate"]


class AnalyticsOut(BaseModel):
    workspace_id: str
    has_data: bool = Field(description="False until the warehouse holds this workspace's posts: lists are empty")
    message: str = Field(default="", description="Why there is nothing to show yet (empty when has_data)")


class AnalyticsSummaryOut(AnalyticsOut):
    data_as_of: date | None = Field(description="The latest snapshot day of the workspace's metrics")
    accounts: int = 0
    posts: int = 0
    measured_posts: int = Field(default=0, description="Posts with a snapshot on data_as_of")
    views: int | None = Field(default=None, description="Lifetime views of every post as of data_as_of")
    likes: int | None = None
    interactions: int | None = None
    mean_engagement_rate: float | None = Field(default=None, description="Mean rate of the posts measured that day")


class EngagementDayOut(BaseModel):
    day: date
    posts: int = Field(description="Posts measured that day")
    views: int | None = Field(description="Their lifetime views as of that day")
    likes: int | None
    interactions: int | None
    views_gained: int | None = Field(description="Views added since each post's previous snapshot")
    likes_gained: int | None
    engagement_rate: float | None = Field(description="Their interactions / views (posts reporting both)")
    mean_engagement_rate: float | None = Field(description="Mean of the posts' own rates")


class EngagementOut(AnalyticsOut):
    platform: Platform | None = None
    start: date | None = None
    end: date | None = None
    platforms: list[Platform] = Field(default_factory=list, description="Platforms the workspace has metrics for")
    series: list[EngagementDayOut] = Field(default_factory=list)


class SubScoresOut(BaseModel):
    hook: float | None
    flow: float | None
    value: float | None
    energy: float | None


class RankedClipOut(BaseModel):
    rank: int = Field(description="1 = best by the metric; bottom clips count from the worst")
    publication_id: str
    clip_id: str = Field(description="The review app's clip id (its page is #/clips/{clip_id})")
    title: str = Field(description="The title (hook text) the clip was posted with")
    platform: Platform
    account_id: str
    account_name: str = Field(default="", description="Empty when the account was disconnected")
    post_url: str = Field(description="Link to the post (http/https only; empty when unknown)")
    published_at: datetime | None
    duration_s: float | None
    duration_bucket: str
    caption_style: str | None
    hook_type: str
    posting_hour_local: int | None
    score: float | None
    sub_scores: SubScoresOut
    score_quintile: int | None
    views: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    saves: int | None
    engagement_rate: float | None
    days_since_post: int | None
    latest_snapshot_day: date | None


class RankedClipsOut(AnalyticsOut):
    metric: AnalyticsMetric
    platform: Platform | None = None
    measured_posts: int = Field(default=0, description="Posts with a value of the metric")
    top: list[RankedClipOut] = Field(default_factory=list, description="Best first")
    bottom: list[RankedClipOut] = Field(default_factory=list, description="Worst first; never repeats a top post")


class FeatureBucketOut(BaseModel):
    bucket: str
    posts: int
    measured_posts: int
    mean_engagement_rate: float | None
    median_engagement_rate: float | None
    mean_views: float | None
    median_views: float | None


class FeatureOut(BaseModel):
    feature: Literal["duration", "hook_type", "caption_style", "posting_hour", "score_quintile"]
    label: str
    buckets: list[FeatureBucketOut] = Field(default_factory=list, description="In the buckets' natural order")


class FeaturesOut(AnalyticsOut):
    features: list[FeatureOut] = Field(default_factory=list)


class PostingHourOut(BaseModel):
    hour: int = Field(description="Local hour of the account's posting plan, 0-23")
    posts: int
    measured_posts: int
    mean_engagement_rate: float | None
    mean_views: float | None
    rank: int = Field(description="1 = the account's best hour")


class AccountHoursOut(BaseModel):
    account_id: str
    account_name: str = ""
    platform: Platform
    hours: list[PostingHourOut] = Field(description="By hour of day")


class PostingHoursOut(AnalyticsOut):
    min_posts: int = Field(description="Measured posts an hour needs before it is ranked")
    accounts: list[AccountHoursOut] = Field(default_factory=list)


class GrowthDayOut(BaseModel):
    day: date
    posts: int
    cumulative_posts: int
    cumulative_views: int | None
    cumulative_likes: int | None
    cumulative_interactions: int | None


class AccountGrowthOut(BaseModel):
    account_id: str
    account_name: str = ""
    platform: Platform
    series: list[GrowthDayOut]


class WorkspaceDayOut(GrowthDayOut):
    accounts: int
    measured_posts: int
    mean_engagement_rate: float | None


class GrowthOut(AnalyticsOut):
    start: date | None = None
    end: date | None = None
    accounts: list[AccountGrowthOut] = Field(default_factory=list)
    workspace: list[WorkspaceDayOut] = Field(default_factory=list, description="The workspace's totals per day")


class HeldOutOut(BaseModel):
    posts: int | None = Field(description="Held-out posts the fit was judged on")
    spearman_current: float | None = Field(description="Rank correlation of the weights in use then")
    spearman_new: float | None = Field(description="Rank correlation of this fit")
    ndcg_current: float | None
    ndcg_new: float | None


class WeightsVersionOut(BaseModel):
    version: int = Field(description="0: the built-in defaults")
    accepted: bool
    in_use: bool = Field(description="The version the selector ranks with now")
    fitted_at: datetime | None
    n_posts: int
    reason: str
    based_on_version: int | None
    weights: dict[str, float] = Field(description="Sub-score weights (sum to 1)")
    duration_terms: dict[str, float] = Field(description="Score bonus per duration bucket")
    held_out: HeldOutOut | None = Field(description="Null when the fit was not judged (too few posts)")


class RankingWeightsOut(AnalyticsOut):
    sub_scores: list[str]
    current: WeightsVersionOut
    defaults: dict[str, float]
    history: list[WeightsVersionOut] = Field(default_factory=list, description="Newest first, down to version 0")


# -- live streams ---------------------------------------------------------------------------------------------------


class StreamIn(Strict):
    url: str = Field(min_length=1, max_length=2000, description="a live page on an allowlisted site, or an HLS .m3u8")
    keywords: list[Annotated[str, Field(min_length=1, max_length=40)]] | None = Field(
        default=None, max_length=50, description="words that trigger a moment (default: the built-in list)"
    )
    max_minutes: float | None = Field(default=None, gt=0, le=24 * 60, description="stop after this much stream time")


class StreamHealthOut(BaseModel):
    state: str
    bitrate_kbps: float
    live_edge_s: float
    segments: int
    kept_segments: int
    dropped_segments: int
    gaps: int
    gap_s: float
    stalls: int
    discontinuities: int
    reconnects: int
    error: str | None = None


class StreamOut(BaseModel):
    id: str
    workspace_id: str
    url: str
    display_name: str
    state: str
    desired: str
    active: bool
    stale: bool
    created_at: datetime
    heartbeat_age_s: float | None
    last_segment_age_s: float | None
    bitrate_kbps: float | None
    dropped_segments: int
    gaps: int
    moment_count: int
    clip_count: int


class LiveEventOut(BaseModel):
    kind: str
    at_s: float
    strength: float
    detail: str = ""


class MomentOut(BaseModel):
    id: str
    at_s: float
    start_s: float
    end_s: float
    score: float
    scores: dict[str, float]
    reason: str
    events: list[LiveEventOut]
    status: str
    clip_id: str | None
    detected_at: datetime
    error: str | None = None


class LiveClipOut(BaseModel):
    id: str
    moment_id: str
    title: str
    reason: str
    score: float
    start_s: float
    end_s: float
    duration_s: float
    detected_at: datetime
    rendered_at: datetime
    video_url: str
    thumbnail_url: str


class StreamDetailOut(StreamOut):
    health: StreamHealthOut | None
    moments: list[MomentOut]
    clips: list[LiveClipOut]


class DownloadOut(BaseModel):
    format: str = Field(description="mp4, srt, vtt, fcpxml, premiere_xml or edl")
    label: str
    filename: str
    url: str = Field(description="A short-lived link that downloads this file (Content-Disposition: attachment)")


class ExportLinkOut(BaseModel):
    url: str = Field(description="A short-lived link that downloads the zip of the job's approved clips")
    filename: str
    clips: int = Field(description="How many approved clips the zip holds")
