//! The router and its handlers: each request loads its record, acts under a lease, saves by
//! compare-and-swap, and answers with a page or a `303` to the page. No flow is kept in
//! memory between two requests: any instance serves any request.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use auth_core::{
    AccountId, CheckpointCode, Credentials, Error, ErrorType, Password, Phase, Problem, Resend, Solution,
    Solved, UnixMillis,
};
use auth_reqwest::{Connection, PendingIntent};
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, OriginalUri, Request, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::config::{ConnectedAccount, CookieSecurity, FormConfig};
use crate::form::{self, Form, FormError};
use crate::http::{self, CSRF_COOKIE, RateLimiter, SESSION_COOKIE};
use crate::ids::{self, SessionId};
use crate::pages::{self, Alert, Frame};
use crate::store::{Action, IntentStore, KeyedAction, Lease, Notice, Record, Stage, Versioned};

/// How long a record is kept past the end of its intent, so that its page can still say
/// "Expired".
const GRACE: Duration = Duration::from_secs(10 * 60);
/// How long a record of a browser that has not got a checkpoint yet is kept.
const START_TTL: Duration = Duration::from_secs(30 * 60);
/// How long the cookies live in the browser, at least (a record's page sets them to live as
/// long as the record).
const COOKIE_TTL: Duration = Duration::from_secs(60 * 60);
/// How often a waiting page's poll reads the record again.
const POLL_EVERY: Duration = Duration::from_millis(200);

/// The form's shared state: the API, the store, the settings, this instance's name.
pub(crate) struct App {
    /// The async client (one connection pool, the core's retries), on the form's clock.
    pub(crate) api: auth_reqwest::Client,
    pub(crate) store: Arc<dyn IntentStore>,
    pub(crate) config: FormConfig,
    pub(crate) instance: String,
    pub(crate) per_ip: RateLimiter,
    pub(crate) warned_no_ip: std::sync::atomic::AtomicBool,
    pub(crate) warned_plain_proxy: std::sync::atomic::AtomicBool,
}

type Shared = State<Arc<App>>;

/// The form as an axum [`Router`], to mount under any prefix:
///
/// ```no_run
/// # async fn mount(store: auth_web::MemoryStore) {
/// let config = auth_web::FormConfig::new("pp_live_…");
/// let app: axum::Router = axum::Router::new().nest("/connect/messenger", auth_web::router(config, store));
/// # }
/// ```
///
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()` so that the per-IP
/// limit on connect attempts sees each client's address (or trust a proxy's
/// `X-Forwarded-For` with [`FormConfig::trust_forwarded_headers`]).
///
/// If the settings cannot be used (no API key, a base URL that is not https to a remote
/// host…), every page answers 500 and the reason is logged once: check them first with
/// [`FormConfig::check`].
pub fn router(config: FormConfig, store: impl IntentStore) -> Router {
    let api = match config.api() {
        Ok(api) => api,
        Err(error) => {
            tracing::error!(%error, "the connection form is misconfigured");
            let message = format!("The connection form is misconfigured: {error}");
            return Router::new()
                .fallback(move || {
                    let message = message.clone();
                    async move { (StatusCode::INTERNAL_SERVER_ERROR, message) }
                })
                .layer(axum::middleware::from_fn(http::security_headers));
        }
    };
    let instance = ids::instance_id().unwrap_or_else(|_| "web-unknown".to_owned());
    let per_ip = RateLimiter::new(config.connects_per_ip.0, config.connects_per_ip.1);
    let app = Arc::new(App {
        api,
        store: Arc::new(store),
        config,
        instance,
        per_ip,
        warned_no_ip: std::sync::atomic::AtomicBool::new(false),
        warned_plain_proxy: std::sync::atomic::AtomicBool::new(false),
    });
    Router::new()
        .route("/", get(page))
        .route("/connect", post(connect))
        .route("/solve", post(solve))
        .route("/approve", post(approve))
        .route("/resend", post(resend))
        .route("/another-way", post(another_way))
        .route("/restart", post(restart))
        .route("/wait", get(wait))
        .route("/assets/form.js", get(script))
        .route("/assets/form.css", get(style))
        .fallback(not_found)
        .with_state(app)
        .layer(axum::middleware::from_fn(http::security_headers))
}

impl FormConfig {
    /// Checks the settings as [`router`] will use them.
    pub fn check(&self) -> Result<(), crate::ConfigError> {
        self.api().map(drop)
    }
}

/// What a handler knows of the request before it acts.
struct Visit {
    prefix: String,
    secure: bool,
    csrf_cookie: Option<String>,
    session: Option<SessionId>,
    ip: Option<std::net::IpAddr>,
}

impl Visit {
    fn new(app: &App, original: &OriginalUri, request: &Request) -> Self {
        let headers = request.headers();
        let https = http::is_https(request.uri(), headers, app.config.trust_forwarded);
        let secure = http::secure_cookies(
            app.config.cookies,
            https,
            http::request_host(request.uri(), headers),
        );
        // A proxy on the same machine (nginx's `proxy_pass http://127.0.0.1:…` sends its own
        // `Host`) makes every request look like loopback: `Auto` then leaves out `Secure`
        // unless the proxy's `X-Forwarded-Proto` is trusted. Said once, when a request shows
        // a proxy's headers (a proxy that sends none cannot be seen).
        if !secure
            && app.config.cookies == CookieSecurity::Auto
            && http::is_forwarded(headers)
            && !app
                .warned_plain_proxy
                .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            tracing::warn!(
                "a proxy forwarded a request to a loopback host, and cookies go without Secure: if the site \
                 is https, trust the proxy's X-Forwarded-Proto (--trust-forwarded, \
                 FormConfig::trust_forwarded_headers) or make cookies always Secure"
            );
        }
        Self {
            prefix: http::prefix(original, request.uri()),
            secure,
            csrf_cookie: form::cookie(headers, CSRF_COOKIE)
                .filter(|token| token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()))
                .map(str::to_owned),
            session: form::cookie(headers, SESSION_COOKIE).and_then(SessionId::parse),
            ip: http::client_ip(
                headers,
                request.extensions().get::<ConnectInfo<SocketAddr>>(),
                app.config.trust_forwarded,
            ),
        }
    }

    fn page_url(&self) -> String {
        if self.prefix.is_empty() {
            "/".to_owned()
        } else {
            self.prefix.clone()
        }
    }

    fn cookie(&self, name: &str, value: &str) -> String {
        http::cookie(name, value, &self.prefix, self.secure, COOKIE_TTL)
    }

    fn frame<'a>(&'a self, app: &'a App, csrf: &'a str) -> Frame<'a> {
        Frame {
            prefix: &self.prefix,
            provider: &app.config.provider_name,
            csrf,
        }
    }

    /// A page for a problem with the request itself.
    fn problem(&self, app: &App, status: StatusCode, heading: &str, message: &str) -> Response {
        let csrf = self.csrf_cookie.as_deref().unwrap_or_default();
        http::html(
            status,
            pages::problem(&self.frame(app, csrf), heading, Alert::new(message)),
            &[],
        )
    }

    /// The page for a failure of the form itself (no random numbers, a task that failed).
    fn unavailable(&self, app: &App, message: &str) -> Response {
        self.problem(app, StatusCode::INTERNAL_SERVER_ERROR, "Unavailable", message)
    }

    fn store_down(&self, app: &App, error: &crate::StoreError) -> Response {
        tracing::warn!(%error, "the intent store failed");
        self.problem(
            app,
            StatusCode::SERVICE_UNAVAILABLE,
            "Try again in a moment",
            "The form cannot reach its storage right now. Nothing was sent; try again in a moment.",
        )
    }
}

/// `GET /`: the page for where this browser's attempt is.
async fn page(State(app): Shared, original: OriginalUri, request: Request) -> Response {
    let visit = Visit::new(&app, &original, &request);
    let context = match query_context(request.uri()) {
        Ok(context) => context,
        Err(error) => {
            return visit.problem(&app, StatusCode::BAD_REQUEST, "Invalid link", &error.to_string());
        }
    };
    let now = app.api.now();
    let loaded = match &visit.session {
        Some(id) => match app.store.load(id, now).await {
            Ok(loaded) => loaded.map(|versioned| (id.clone(), versioned)),
            Err(error) => return visit.store_down(&app, &error),
        },
        None => None,
    };
    match loaded {
        // A link with another context than the record's is for another user of the app (or
        // another of their accounts): it starts afresh under a new session id, and the
        // record of the old context lives on unchanged (a request in flight finishes with
        // its own context). A link without one shows the record.
        Some((id, versioned)) if context.is_none() || versioned.record.context == context => {
            show(&app, &visit, id, versioned).await
        }
        _ => fresh_start(&app, &visit, context.as_deref()),
    }
}

/// The start page for a browser without a record, or with a record of another context: a
/// CSRF cookie, and a new session id.
///
/// The id is issued here, with nothing stored yet, so that every connect this page sends
/// (a double click, a second tab) names the same record: the first creates it, the others
/// meet a compare-and-swap conflict and send nothing. A session cookie that named no record
/// (forged, or stale) or a record of another context is replaced.
fn fresh_start(app: &App, visit: &Visit, context: Option<&str>) -> Response {
    let mut cookies = Vec::new();
    let csrf = match &visit.csrf_cookie {
        Some(token) => token.clone(),
        None => match ids::csrf_token() {
            Ok(token) => {
                cookies.push(visit.cookie(CSRF_COOKIE, &token));
                token
            }
            Err(error) => {
                return visit.unavailable(app, &error.to_string());
            }
        },
    };
    match SessionId::random() {
        Ok(id) => cookies.push(visit.cookie(SESSION_COOKIE, id.as_str())),
        Err(error) => {
            return visit.unavailable(app, &error.to_string());
        }
    }
    let body = pages::start(&visit.frame(app, &csrf), context, None, None);
    http::html(StatusCode::OK, body, &cookies)
}

/// `?context=…`: at most [`FormConfig::MAX_CONTEXT_BYTES`], UTF-8.
fn query_context(uri: &Uri) -> Result<Option<String>, FormError> {
    let Some(query) = uri.query() else {
        return Ok(None);
    };
    let form = Form::parse(Some("application/x-www-form-urlencoded"), query.as_bytes())?;
    let context = form.field("context", FormConfig::MAX_CONTEXT_BYTES)?;
    Ok((!context.is_empty()).then(|| context.to_owned()))
}

/// Renders the page of a record, taking over a request whose instance died first.
async fn show(app: &Arc<App>, visit: &Visit, id: SessionId, versioned: Versioned) -> Response {
    let now = app.api.now();
    let versioned = match take_over(app, &id, versioned, now).await {
        Ok(versioned) => versioned,
        Err(error) => return visit.store_down(app, &error),
    };
    let record = &versioned.record;
    let frame = visit.frame(app, &record.csrf);
    let cookies = record_cookies(visit, &id, record, now);
    if let Some(lease) = record.live_lease(now) {
        return http::html(StatusCode::OK, busy_page(app, &frame, record, lease), &cookies);
    }
    let alert = record.notice.as_ref().and_then(alert_of);
    let info = record.notice.as_ref().and_then(status_of);
    let body = match &record.stage {
        Stage::Start => pages::start(&frame, record.context.as_deref(), alert, info),
        Stage::Pending { snapshot } => match app.api.resume(snapshot.clone()) {
            Ok(pending) => pages::checkpoint(&frame, pending.intent(), now, alert, info),
            Err(error) => pages::expired(&frame, ended_message(&error)),
        },
        Stage::Connected { account_id, .. } => {
            // The app's callback, if still due, is under a lease: `take_over` above resumes
            // it if its instance died.
            pages::connected(&frame, account_id.as_str(), app.config.success_url.as_deref())
        }
        Stage::Ended => pages::expired(
            &frame,
            "The time to connect ran out. Start again to connect your account.",
        ),
    };
    http::html(StatusCode::OK, body, &cookies)
}

/// The cookies of a record's page, set again with every page: the session id, and the
/// record's CSRF token that its forms carry (the browser's may have expired, or been set by
/// another tab's start page, since). Both live as long as the record, and at least
/// [`COOKIE_TTL`]: a record outlives the start page's cookies when the intent began long
/// after the start page was opened, or is long itself, and the browser must not drop them
/// while the intent is pending.
fn record_cookies(visit: &Visit, id: &SessionId, record: &Record, now: UnixMillis) -> Vec<String> {
    let lives = record.expires_at.saturating_duration_since(now).max(COOKIE_TTL);
    vec![
        http::cookie(SESSION_COOKIE, id.as_str(), &visit.prefix, visit.secure, lives),
        http::cookie(CSRF_COOKIE, &record.csrf, &visit.prefix, visit.secure, lives),
    ]
}

/// The page while a request is in flight: waiting for the approval in the app, or "already
/// being checked". Both move on by themselves.
fn busy_page(app: &App, frame: &Frame<'_>, record: &Record, lease: &Lease) -> String {
    let now = app.api.now();
    let left = match &record.stage {
        Stage::Pending { snapshot } => snapshot.intent().map(|intent| intent.remaining(now)),
        _ => None,
    };
    let (heading, message) = match lease.action.action {
        Action::ApproveInApp => (
            "Approve in the app",
            "Waiting for your approval in the app. Open the app on your phone and approve the connection.",
        ),
        Action::Connect => (
            "Already being checked",
            "Your username and password are already being checked.",
        ),
        Action::SolveCode => ("Already being checked", "Your code is already being checked."),
        Action::Resend => ("Already being checked", "The code is already being sent again."),
        Action::TryAnotherWay => ("Already being checked", "Another way is already being asked for."),
        Action::Notify => ("Connected", "Finishing the connection."),
    };
    pages::waiting(frame, heading, message, left)
}

/// If the lease of the record has run out (its instance died), takes it over: an action
/// without a secret (an in-app approval, the app's callback) is sent again by this instance
/// with the same key; a code or a password must be typed again, and will be sent with the
/// same key.
async fn take_over(
    app: &Arc<App>,
    id: &SessionId,
    mut versioned: Versioned,
    now: UnixMillis,
) -> Result<Versioned, crate::StoreError> {
    loop {
        let Some(lease) = versioned.record.lease.clone() else {
            return Ok(versioned);
        };
        if lease.until > now {
            return Ok(versioned);
        }
        let mut record = versioned.record.clone();
        if lease.action.action.resumes_by_itself() {
            record.lease = Some(Lease {
                holder: app.instance.clone(),
                until: now.saturating_add(app.config.lease_length()),
                action: lease.action,
            });
        } else {
            record.lease = None;
            record.lost = Some(lease.action);
            record.notice = Some(Notice::TypeAgain);
        }
        if app.store.replace(id, versioned.revision, &record).await? {
            let revision = versioned.revision.saturating_add(1);
            tracing::info!(session = ?id, action = ?lease.action.action, dead = %lease.holder, "took over a request whose instance stopped");
            match lease.action.action {
                Action::ApproveInApp => spawn_in_app(Arc::clone(app), id.clone(), revision, record.clone()),
                Action::Notify => spawn_notify(Arc::clone(app), id.clone(), revision, record.clone()),
                _ => {}
            }
            return Ok(Versioned { revision, record });
        }
        // Another request changed it first: read it again.
        match app.store.load(id, now).await? {
            Some(again) => versioned = again,
            None => return Ok(versioned),
        }
    }
}

/// A posted form, checked: body size, UTF-8, CSRF.
struct Posted {
    visit: Visit,
    form: Form,
}

async fn posted(app: &App, original: &OriginalUri, request: Request) -> Result<Posted, Response> {
    let visit = Visit::new(app, original, &request);
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let Some(body) = http::read_body(request.into_body(), FormConfig::MAX_BODY_BYTES).await else {
        return Err(visit.problem(
            app,
            StatusCode::PAYLOAD_TOO_LARGE,
            "Too large",
            "The form sent more than this page accepts.",
        ));
    };
    let form = match Form::parse(content_type.as_deref(), &body) {
        Ok(form) => form,
        Err(error) => {
            let status = match error {
                FormError::ContentType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                _ => StatusCode::BAD_REQUEST,
            };
            return Err(visit.problem(app, status, "Invalid form", &error.to_string()));
        }
    };
    let token = form.field("csrf", 64).unwrap_or_default();
    let valid = visit
        .csrf_cookie
        .as_deref()
        .is_some_and(|cookie| !token.is_empty() && ids::same_token(cookie, token));
    if !valid {
        tracing::info!("a form was posted without a valid CSRF token");
        return Err(visit.problem(
            app,
            StatusCode::FORBIDDEN,
            "Forbidden",
            "This form has expired or did not come from this site. Open the page again.",
        ));
    }
    Ok(Posted { visit, form })
}

fn too_long(app: &App, visit: &Visit, error: &FormError) -> Response {
    visit.problem(app, StatusCode::BAD_REQUEST, "Invalid form", &error.to_string())
}

/// `POST /connect`: the username and password, sent once with a key kept in the record.
async fn connect(State(app): Shared, original: OriginalUri, request: Request) -> Response {
    let Posted { visit, form } = match posted(&app, &original, request).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    // The password goes straight into the core's `Password`, which wipes it when dropped
    // (on every early return below too); the form's copy is wiped with the form.
    let fields = (|| {
        Ok::<_, FormError>((
            form.field("username", FormConfig::MAX_FIELD_BYTES)?
                .trim()
                .to_owned(),
            Password::new(form.field("password", FormConfig::MAX_FIELD_BYTES)?),
            form.field("context", FormConfig::MAX_CONTEXT_BYTES)?.to_owned(),
        ))
    })();
    drop(form);
    let (username, password, context) = match fields {
        Ok(fields) => fields,
        Err(error) => return too_long(&app, &visit, &error),
    };
    let context = (!context.is_empty()).then_some(context);
    let csrf = visit.csrf_cookie.clone().unwrap_or_default();
    let now = app.api.now();
    let frame = visit.frame(&app, &csrf);
    if username.is_empty() || password.is_empty() {
        let alert = Alert::new("Enter your username and your password.");
        let body = pages::start(&frame, context.as_deref(), Some(alert), None);
        return http::html(StatusCode::UNPROCESSABLE_ENTITY, body, &[]);
    }

    // The record: this browser's, or a new one.
    let existing = match &visit.session {
        Some(id) => match app.store.load(id, now).await {
            Ok(found) => found.map(|versioned| (id.clone(), versioned)),
            Err(error) => return visit.store_down(&app, &error),
        },
        None => None,
    };
    if let Some((_, versioned)) = &existing {
        let record = &versioned.record;
        if !ids::same_token(&record.csrf, &csrf) {
            return visit.problem(
                &app,
                StatusCode::FORBIDDEN,
                "Forbidden",
                "This form did not come from this session.",
            );
        }
        if record.live_lease(now).is_some() || !matches!(record.stage, Stage::Start) {
            // Already connecting, or past this step: the page says where it is.
            return see_page(&visit);
        }
        if record.connect_attempts >= app.config.connects_per_session {
            let alert = Alert::new("Too many attempts with this browser. Wait half an hour, then try again.");
            let body = pages::start(&frame, record.context.as_deref(), Some(alert), None);
            return http::html(StatusCode::TOO_MANY_REQUESTS, body, &[]);
        }
    }
    match visit.ip {
        None if !app.warned_no_ip.swap(true, std::sync::atomic::Ordering::Relaxed) => tracing::warn!(
            "the form does not know clients' addresses, so connect attempts are limited per session only: \
             serve it with into_make_service_with_connect_info::<SocketAddr>(), or trust a proxy's X-Forwarded-For"
        ),
        _ => {}
    }
    if let Some(ip) = visit.ip
        && !app.per_ip.allow(ip, now.as_millis())
    {
        tracing::info!(ip = ?visit.ip, "connect attempts over the per-address limit");
        let alert = Alert::new("Too many attempts from your network. Wait a minute, then try again.");
        let body = pages::start(&frame, context.as_deref(), Some(alert), None);
        return http::html(StatusCode::TOO_MANY_REQUESTS, body, &[]);
    }

    // Take the lease: a second submit while it is held is told "already being checked".
    let mut cookies = Vec::new();
    let (id, revision, record) = match existing {
        Some((id, versioned)) => {
            let mut record = versioned.record;
            let keyed = match key_for(&app, &record, Action::Connect, now) {
                Ok(keyed) => keyed,
                Err(error) => {
                    return visit.unavailable(&app, &error.to_string());
                }
            };
            record.lease = Some(lease(&app, now, keyed));
            record.lost = None;
            record.notice = None;
            record.connect_attempts = record.connect_attempts.saturating_add(1);
            if context.is_some() {
                record.context = context;
            }
            record.expires_at = now.saturating_add(START_TTL);
            match app.store.replace(&id, versioned.revision, &record).await {
                Ok(true) => (id, versioned.revision.saturating_add(1), record),
                Ok(false) => return see_page(&visit),
                Err(error) => return visit.store_down(&app, &error),
            }
        }
        None => {
            // The id the start page issued: a second connect of the same page (a double
            // click, another tab) creates the same record, and loses. Without one (the
            // cookie was refused or has expired), a new one.
            let id = match visit.session.clone() {
                Some(id) => Ok(id),
                None => {
                    SessionId::random().inspect(|id| cookies.push(visit.cookie(SESSION_COOKIE, id.as_str())))
                }
            };
            let (Ok(id), Ok(keyed)) = (id, new_keyed(Action::Connect, now)) else {
                return visit.unavailable(&app, "No random numbers.");
            };
            let mut record = Record::new(csrf.clone(), context, now.saturating_add(START_TTL));
            record.lease = Some(lease(&app, now, keyed));
            record.connect_attempts = 1;
            match app.store.create(&id, &record, now).await {
                Ok(()) => {}
                Err(crate::StoreError::Conflict) => return see_page(&visit),
                Err(error) => return visit.store_down(&app, &error),
            }
            (id, 1, record)
        }
    };
    let work = Work::Connect(Credentials::messenger(username, password));
    match run_detached(&app, id, Held { revision, record }, work).await {
        Ok(()) => http::see_other(&visit.page_url(), &cookies),
        Err(response) => response.page(&app, &visit),
    }
}

/// What an action sends.
enum Work {
    /// `POST /accounts` with the username and password.
    Connect(Credentials),
    /// A solution (a code, try another way, the approval in the app) for a pending intent.
    Solve(PendingIntent, Solution),
    /// `POST /accounts/checkpoint/resend`.
    Resend(PendingIntent),
}

/// Why a detached action could not say how it went.
enum Failed {
    Store(crate::StoreError),
    Task(tokio::task::JoinError),
}

impl Failed {
    fn page(self, app: &App, visit: &Visit) -> Response {
        match self {
            Self::Store(error) => visit.store_down(app, &error),
            Self::Task(error) => {
                tracing::error!(%error, "an action's task failed");
                visit.unavailable(
                    app,
                    "The form failed while it was sending this. Open the page again.",
                )
            }
        }
    }
}

/// Sends an action whose lease this instance holds, saves what it led to and tells the app
/// of a new connection, in a task of its own, and waits for it: hyper drops a handler's
/// future when its client goes away (a closed tab), and none of this may stop half way (the
/// request sent, its answer never saved, the app never told).
async fn run_detached(app: &Arc<App>, id: SessionId, held: Held, work: Work) -> Result<(), Failed> {
    match tokio::spawn(perform(Arc::clone(app), id, held, work)).await {
        Ok(saved) => saved.map_err(Failed::Store),
        Err(error) => Err(Failed::Task(error)),
    }
}

/// The key an action is sent with, and when it was first sent: the one it was sent with
/// before if that answer was lost (its instance died, or no answer came), so that a server
/// that acted on it answers the same again; else a new one, sent now. The one place this is chosen; [`send`] is where a kept key
/// that meets other input is given up.
fn key_for(app: &App, record: &Record, action: Action, now: UnixMillis) -> Result<KeyedAction, Error> {
    // A connect first sent an intent's life ago or more is forgotten: any intent it started
    // has ended, and one the server never got must not be counted from then.
    let current = |kept: &KeyedAction| match (kept.action, kept.first_sent_at) {
        (Action::Connect, Some(at)) => now < at.saturating_add(app.config.intent_ttl),
        _ => true,
    };
    let kept = record
        .lost
        .or(record.lease.as_ref().map(|lease| lease.action))
        .filter(|kept| kept.action == action && current(kept));
    match kept {
        Some(kept) => Ok(kept),
        None => new_keyed(action, now),
    }
}

/// `action` under a new key, sent now.
fn new_keyed(action: Action, now: UnixMillis) -> Result<KeyedAction, Error> {
    Ok(KeyedAction {
        action,
        key: auth_reqwest::new_idempotency_key()?,
        first_sent_at: Some(now),
    })
}

/// What the API answered to a [`Work`].
#[allow(
    clippy::large_enum_variant,
    reason = "one answer per action, moved once into the record: a box would only add an allocation"
)]
enum Answer {
    Connection(Connection),
    Done(Done),
}

impl Work {
    /// Sends the work once, as `sent` says: with its key; a connect also from its first
    /// send, so that the intent a replayed answer gives counts its deadline from there, as
    /// the server's does.
    async fn send_once(&mut self, app: &App, sent: &KeyedAction) -> Result<Answer, Error> {
        let key = sent.key;
        match self {
            Self::Connect(credentials) => match sent.first_sent_at {
                Some(first_sent_at) => {
                    let lost = auth_core::Snapshot::lost_connect(key, first_sent_at, None);
                    app.api.connect_again(lost, credentials.clone()).await
                }
                None => app.api.connect_with_key(credentials.clone(), key).await,
            }
            .map(Answer::Connection),
            Self::Solve(pending, solution) => pending
                .solve_with_key(solution.clone(), key)
                .await
                .map(|solved| Answer::Done(Done::from(solved))),
            Self::Resend(pending) => pending
                .resend_checkpoint_with_key(key)
                .await
                .map(|resend| Answer::Done(Done::Resent(resend == Resend::Sent))),
        }
    }
}

/// Sends the work with the action's key. A key kept from a request whose answer was lost
/// may meet other input this time (the user corrected the password, or typed another
/// code): the API then answers `409 idempotency_conflict` without acting, and the work is
/// sent once more under a fresh key, which `sent` then holds. (The core does the same for a
/// key of its own, and for a connect sent again from its first send, whose 409 it answers
/// itself under a key of its own; this form chooses the other keys itself.)
async fn send(app: &App, id: &SessionId, work: &mut Work, sent: &mut KeyedAction) -> Result<Answer, Error> {
    let answer = work.send_once(app, sent).await;
    let conflict = matches!(&answer, Err(Error::Api(api)) if api.problem == Problem::IdempotencyConflict);
    if !conflict {
        return answer;
    }
    match auth_reqwest::new_idempotency_key() {
        Ok(fresh) => {
            tracing::info!(session = ?id, action = ?sent.action, "a kept key met other input: sent again under a fresh key");
            sent.key = fresh;
            sent.first_sent_at = Some(app.api.now());
            work.send_once(app, sent).await
        }
        Err(_) => answer,
    }
}

/// The action of the record's lease: sent under the renewed lease, its outcome saved by
/// compare-and-swap, the app told of a new connection.
async fn perform(
    app: Arc<App>,
    id: SessionId,
    mut held: Held,
    mut work: Work,
) -> Result<(), crate::StoreError> {
    let Some(mut sent) = held.record.lease.as_ref().map(|lease| lease.action) else {
        return Ok(());
    };
    let sending = send(&app, &id, &mut work, &mut sent);
    let Some(outcome) = while_leased(&app, &id, &mut held, sending).await else {
        return Ok(());
    };
    let record = match work {
        Work::Connect(_) => connected(&app, &id, held.record, outcome, sent),
        Work::Solve(pending, _) | Work::Resend(pending) => {
            let outcome = outcome.map(|answer| match answer {
                Answer::Done(done) => done,
                // Pending work is answered with a `Done`; a connection cannot come of it.
                Answer::Connection(_) => Done::NextCheckpoint,
            });
            settle(&app, &id, held.record, &pending, outcome, sent)
        }
    };
    save(&app, &id, held.revision, record).await
}

/// The record after a connect.
fn connected(
    app: &App,
    id: &SessionId,
    mut record: Record,
    outcome: Result<Answer, Error>,
    sent: KeyedAction,
) -> Record {
    let now = app.api.now();
    record.lease = None;
    match outcome {
        Ok(Answer::Connection(
            Connection::Connected { account_id } | Connection::Reconnected { account_id },
        )) => {
            tracing::info!(session = ?id, account = %account_id.as_str(), "connected without a checkpoint");
            record.stage = Stage::Connected {
                account_id,
                notified: false,
            };
            record.expires_at = now.saturating_add(GRACE);
        }
        Ok(Answer::Connection(Connection::Pending(pending))) => {
            tracing::info!(session = ?id, account = %pending.account_id().as_str(), checkpoint = pending.checkpoint().kind(), "checkpoint");
            record.expires_at = pending.deadline().saturating_add(GRACE);
            record.stage = Stage::Pending {
                snapshot: pending.save(),
            };
        }
        Ok(_) => {
            record.notice = Some(Notice::Error {
                message: "The connection service answered something unexpected. Try again.".to_owned(),
                request_id: None,
            });
        }
        Err(error) => {
            log_error("connect", id, &error);
            if is_unanswered(&error) {
                record.lost = Some(sent);
            }
            record.notice = Some(connect_notice(&error));
        }
    }
    record
}

/// Saves what an action led to by compare-and-swap (releasing its lease), and for a new
/// connection takes the `Notify` lease in the same write and tells the app. A write that
/// finds the record changed drops the answer (another instance took the lease over).
async fn save(
    app: &Arc<App>,
    id: &SessionId,
    revision: u64,
    mut record: Record,
) -> Result<(), crate::StoreError> {
    let connected = matches!(record.stage, Stage::Connected { notified: false, .. });
    if connected {
        // The callback is called under a lease, so exactly one instance calls it.
        let now = app.api.now();
        match new_keyed(Action::Notify, now) {
            Ok(keyed) => record.lease = Some(lease(app, now, keyed)),
            Err(error) => tracing::error!(%error, "no random numbers"),
        }
    }
    if app.store.replace(id, revision, &record).await? {
        if connected {
            notify(app, id, revision.saturating_add(1), record).await;
        }
    } else {
        tracing::warn!(session = ?id, "the record changed while its lease was held: this answer is dropped");
    }
    Ok(())
}

/// Calls the app's callback for the record's connected account (the caller holds the
/// record's `Notify` lease at `revision`), then records that it did.
///
/// The callback runs in a task of its own, however long it takes, while this instance renews
/// the `Notify` lease: no other instance calls it while this one is alive. It is called
/// again only if this instance dies (or cannot write to the store for a whole lease) before
/// it has recorded the call: then the lease runs out and another instance calls it, so the
/// app should make it idempotent on the account id. Even then this call is not cut short.
/// A callback that panics is not recorded as done: the next take-over calls it again.
async fn notify(app: &App, id: &SessionId, revision: u64, record: Record) {
    let Stage::Connected { account_id, .. } = &record.stage else {
        return;
    };
    let account = ConnectedAccount {
        account_id: account_id.clone(),
        context: record.context.clone(),
    };
    let mut held = Held { revision, record };
    if let Some(callback) = &app.config.on_connected {
        // A task, not a future: if the lease is lost meanwhile, dropping its handle leaves
        // the app's callback running to its end.
        let call = tokio::spawn(callback(account));
        match while_leased(app, id, &mut held, call).await {
            Some(Ok(())) => {}
            Some(Err(error)) => {
                tracing::error!(session = ?id, %error, "the app's callback panicked");
                return;
            }
            None => return,
        }
    }
    let Held { revision, mut record } = held;
    let Stage::Connected { account_id, .. } = &record.stage else {
        return;
    };
    record.stage = Stage::Connected {
        account_id: AccountId::new(account_id.as_str()),
        notified: true,
    };
    record.lease = None;
    match app.store.replace(id, revision, &record).await {
        Ok(true) => tracing::info!(session = ?id, "the app was told of the connected account"),
        Ok(false) => tracing::warn!(session = ?id, "the record changed while the app was being told"),
        Err(error) => tracing::warn!(session = ?id, %error, "could not record that the app was told"),
    }
}

/// Tells the app of a connected account whose instance stopped before it could: the caller
/// took the record's `Notify` lease by compare-and-swap (at `revision`), so one instance does it.
fn spawn_notify(app: Arc<App>, id: SessionId, revision: u64, record: Record) {
    tokio::spawn(async move { notify(&app, &id, revision, record).await });
}

/// A record whose lease this instance holds, as it last wrote it.
struct Held {
    revision: u64,
    record: Record,
}

/// Runs `work` (an API request, the app's callback) while this instance holds the record's
/// lease, renewing it every third of its length by compare-and-swap: a request that is only
/// slow (a slow provider, the core's retries) is never taken over, whatever the lease's
/// length. `held` ends as the record was last written.
///
/// `None` if a renewal found the record changed: the lease ran out first (renewals could not
/// be written for a whole lease: the store was down, or this instance stalled) and another
/// instance took it over. The work is then dropped: its answer could not be saved, and the
/// other instance sends the same action again with the same key (or asks the user for it).
/// A renewal the store refuses (it is down) is logged, and the work goes on.
async fn while_leased<F: Future>(app: &App, id: &SessionId, held: &mut Held, work: F) -> Option<F::Output> {
    let every = (app.config.lease_length() / 3).max(Duration::from_millis(10));
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(work);
    loop {
        tokio::select! {
            done = &mut work => return Some(done),
            _ = ticker.tick() => {
                let mut renewed = held.record.clone();
                if let Some(lease) = renewed.lease.as_mut() {
                    lease.until = app.api.now().saturating_add(app.config.lease_length());
                }
                match app.store.replace(id, held.revision, &renewed).await {
                    Ok(true) => {
                        held.revision = held.revision.saturating_add(1);
                        held.record = renewed;
                    }
                    Ok(false) => {
                        tracing::warn!(session = ?id, "lost the lease of a request in flight: another instance took it over");
                        return None;
                    }
                    Err(error) => tracing::warn!(session = ?id, %error, "could not renew a lease"),
                }
            }
        }
    }
}

fn lease(app: &App, now: UnixMillis, action: KeyedAction) -> Lease {
    Lease {
        holder: app.instance.clone(),
        until: now.saturating_add(app.config.lease_length()),
        action,
    }
}

/// `303` to the page, which says where the attempt is. Also the answer to a second submit
/// while the first holds the lease: the page it leads to says "Already being checked" (a
/// page at a GET URL, so that reloading it, or the script moving it on, never posts again).
fn see_page(visit: &Visit) -> Response {
    http::see_other(&visit.page_url(), &[])
}

/// What a button on the checkpoint page asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ask {
    Code,
    InApp,
    AnotherWay,
    Resend,
}

impl Ask {
    fn action(self) -> Action {
        match self {
            Self::Code => Action::SolveCode,
            Self::InApp => Action::ApproveInApp,
            Self::AnotherWay => Action::TryAnotherWay,
            Self::Resend => Action::Resend,
        }
    }
}

async fn solve(State(app): Shared, original: OriginalUri, request: Request) -> Response {
    act(app, original, request, Ask::Code).await
}

async fn approve(State(app): Shared, original: OriginalUri, request: Request) -> Response {
    act(app, original, request, Ask::InApp).await
}

async fn resend(State(app): Shared, original: OriginalUri, request: Request) -> Response {
    act(app, original, request, Ask::Resend).await
}

async fn another_way(State(app): Shared, original: OriginalUri, request: Request) -> Response {
    act(app, original, request, Ask::AnotherWay).await
}

/// The checkpoint page's buttons: take the lease by compare-and-swap, resume the intent
/// from its snapshot, send, save.
async fn act(app: Arc<App>, original: OriginalUri, request: Request, ask: Ask) -> Response {
    let Posted { visit, form } = match posted(&app, &original, request).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    // Straight into the core's `CheckpointCode`, which wipes it when dropped.
    let code = form
        .field("code", FormConfig::MAX_CODE_BYTES)
        .map(|code| CheckpointCode::new(code.trim()));
    drop(form);
    let code = match code {
        Ok(code) => code,
        Err(error) => return too_long(&app, &visit, &error),
    };
    let now = app.api.now();
    let Some(id) = visit.session.clone() else {
        return see_page(&visit);
    };
    let versioned = match app.store.load(&id, now).await {
        Ok(Some(versioned)) => versioned,
        Ok(None) => return see_page(&visit),
        Err(error) => return visit.store_down(&app, &error),
    };
    let csrf = visit.csrf_cookie.clone().unwrap_or_default();
    if !ids::same_token(&versioned.record.csrf, &csrf) {
        return visit.problem(
            &app,
            StatusCode::FORBIDDEN,
            "Forbidden",
            "This form did not come from this session.",
        );
    }
    if versioned.record.live_lease(now).is_some() {
        return see_page(&visit);
    }
    let Stage::Pending { snapshot } = &versioned.record.stage else {
        return see_page(&visit);
    };
    if ask == Ask::Code && code.is_empty() {
        let mut record = versioned.record.clone();
        record.notice = Some(Notice::Error {
            message: "Enter the code first.".to_owned(),
            request_id: None,
        });
        return match app.store.replace(&id, versioned.revision, &record).await {
            Ok(_) => see_page(&visit),
            Err(error) => visit.store_down(&app, &error),
        };
    }
    let pending = match app.api.resume(snapshot.clone()) {
        Ok(pending) => pending,
        Err(_) => {
            let mut record = versioned.record.clone();
            record.stage = Stage::Ended;
            record.expires_at = now.saturating_add(GRACE);
            return match app.store.replace(&id, versioned.revision, &record).await {
                Ok(_) => see_page(&visit),
                Err(error) => visit.store_down(&app, &error),
            };
        }
    };
    let action = ask.action();
    let keyed = match key_for(&app, &versioned.record, action, now) {
        Ok(keyed) => keyed,
        Err(error) => {
            return visit.unavailable(&app, &error.to_string());
        }
    };
    let mut record = versioned.record.clone();
    record.lease = Some(lease(&app, now, keyed));
    record.lost = None;
    record.notice = None;
    let revision = match app.store.replace(&id, versioned.revision, &record).await {
        Ok(true) => versioned.revision.saturating_add(1),
        Ok(false) => return see_page(&visit),
        Err(error) => return visit.store_down(&app, &error),
    };

    let held = Held { revision, record };
    let work = match ask {
        Ask::Code => Work::Solve(pending, Solution::code(code.expose_secret())),
        Ask::AnotherWay => Work::Solve(pending, Solution::TryAnotherWay),
        Ask::InApp => Work::Solve(pending, Solution::InAppValidation),
        Ask::Resend => Work::Resend(pending),
    };
    if ask == Ask::InApp {
        // The API holds this request until the user approves: it runs on the server, in a
        // task of its own, while the browser polls.
        tokio::spawn(perform(Arc::clone(&app), id, held, work));
        return see_page(&visit);
    }
    match run_detached(&app, id, held, work).await {
        Ok(()) => see_page(&visit),
        Err(failed) => failed.page(&app, &visit),
    }
}

/// What an action on a pending intent led to.
#[derive(Debug)]
enum Done {
    Connected(AccountId),
    NextCheckpoint,
    Resent(bool),
}

impl From<Solved> for Done {
    fn from(solved: Solved) -> Self {
        match solved {
            Solved::Connected { account_id } | Solved::Reconnected { account_id } => {
                Self::Connected(account_id)
            }
            _ => Self::NextCheckpoint,
        }
    }
}

/// The record after an action on a pending intent.
fn settle(
    app: &App,
    id: &SessionId,
    mut record: Record,
    pending: &PendingIntent,
    outcome: Result<Done, Error>,
    sent: KeyedAction,
) -> Record {
    let now = app.api.now();
    record.lease = None;
    record.lost = None;
    record.notice = None;
    let keep_pending = |record: &mut Record| {
        record.stage = Stage::Pending {
            snapshot: pending.save(),
        };
        record.expires_at = pending.deadline().saturating_add(GRACE);
    };
    match outcome {
        Ok(Done::Connected(account_id)) => {
            tracing::info!(session = ?id, account = %account_id.as_str(), "connected");
            record.stage = Stage::Connected {
                account_id,
                notified: false,
            };
            record.expires_at = now.saturating_add(GRACE);
        }
        Ok(Done::NextCheckpoint) => keep_pending(&mut record),
        Ok(Done::Resent(sent)) => {
            keep_pending(&mut record);
            record.notice = Some(Notice::Resent { sent });
        }
        Err(error) => {
            log_error(&format!("{:?}", sent.action), id, &error);
            if matches!(error, Error::IntentExpired(_) | Error::IntentDestroyed(_)) {
                record.stage = Stage::Ended;
                record.expires_at = now.saturating_add(GRACE);
            } else if pending.phase() == Phase::AwaitingCheckpoint {
                keep_pending(&mut record);
                record.notice = Some(if error.api_error().is_some_and(|e| e.is_wrong_code()) {
                    Notice::WrongCode
                } else {
                    resumed_notice(&error)
                });
                if is_unanswered(&error) {
                    record.lost = Some(sent);
                }
            } else {
                // The attempt is over (the provider refused the account): back to the start,
                // with the form's word for why.
                record.stage = Stage::Start;
                record.notice = Some(resumed_notice(&error));
                record.expires_at = now.saturating_add(START_TTL);
            }
        }
    }
    record
}

/// Runs an in-app approval on the server, for an instance that took it over: the API holds
/// the request until the user approves, under the lease this instance now holds.
pub(crate) fn spawn_in_app(app: Arc<App>, id: SessionId, revision: u64, mut record: Record) {
    let Stage::Pending { snapshot } = &record.stage else {
        return;
    };
    match app.api.resume(snapshot.clone()) {
        Ok(pending) => {
            let work = Work::Solve(pending, Solution::InAppValidation);
            tokio::spawn(perform(Arc::clone(&app), id, Held { revision, record }, work));
        }
        Err(_) => {
            tokio::spawn(async move {
                record.lease = None;
                record.stage = Stage::Ended;
                record.expires_at = app.api.now().saturating_add(GRACE);
                let _ = app.store.replace(&id, revision, &record).await;
            });
        }
    }
}

/// `POST /restart`: back to the start page (not while a request is in flight). The record
/// stays, with its context and its count of connect attempts: "Start again" does not reset
/// the per-session limit.
async fn restart(State(app): Shared, original: OriginalUri, request: Request) -> Response {
    let Posted { visit, .. } = match posted(&app, &original, request).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let now = app.api.now();
    if let Some(id) = &visit.session {
        match app.store.load(id, now).await {
            Ok(Some(versioned)) => {
                if versioned.record.live_lease(now).is_some() {
                    return see_page(&visit);
                }
                let mut record = versioned.record;
                record.stage = Stage::Start;
                record.lease = None;
                record.lost = None;
                record.notice = None;
                record.expires_at = now.saturating_add(START_TTL);
                if let Err(error) = app.store.replace(id, versioned.revision, &record).await {
                    return visit.store_down(&app, &error);
                }
            }
            Ok(None) => {}
            Err(error) => return visit.store_down(&app, &error),
        }
    }
    see_page(&visit)
}

/// `GET /wait`: answers `{"done":true}` once no request of this browser is in flight any
/// more (the page then loads itself again), `{"done":false}` after the long-poll time, and
/// `503` if the store cannot be read (the script then waits a second before it asks again,
/// instead of polling a store that is down in a loop).
async fn wait(State(app): Shared, original: OriginalUri, request: Request) -> Response {
    let visit = Visit::new(&app, &original, &request);
    let until = tokio::time::Instant::now() + app.config.wait_for;
    let done = loop {
        let Some(id) = &visit.session else { break true };
        let now = app.api.now();
        let read = match app.store.load(id, now).await {
            Ok(Some(versioned)) => take_over(&app, id, versioned, now).await.map(Some),
            Ok(None) => Ok(None),
            Err(error) => Err(error),
        };
        match read {
            Ok(None) => break true,
            Ok(Some(versioned)) if versioned.record.live_lease(now).is_none() => break true,
            Ok(Some(_)) => {}
            Err(error) => {
                tracing::warn!(%error, "a waiting page could not read its record");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::CONTENT_TYPE, "application/json")],
                    r#"{"done":false}"#,
                )
                    .into_response();
            }
        }
        if tokio::time::Instant::now() + POLL_EVERY > until {
            break false;
        }
        tokio::time::sleep(POLL_EVERY).await;
    };
    let body = if done {
        r#"{"done":true}"#
    } else {
        r#"{"done":false}"#
    };
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The form's only script: the countdown, the waiting page's poll, one submit per click.
async fn script() -> Response {
    static_asset(
        "text/javascript; charset=utf-8",
        include_str!("../static/form.js"),
    )
}

async fn style() -> Response {
    static_asset("text/css; charset=utf-8", include_str!("../static/form.css"))
}

fn static_asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

async fn not_found(State(app): Shared, original: OriginalUri, request: Request<Body>) -> Response {
    let visit = Visit::new(&app, &original, &request);
    visit.problem(&app, StatusCode::NOT_FOUND, "Not found", "There is no such page.")
}

/// Whether the request got no answer at all (the server may have acted on it): the same
/// action is sent again with the same key.
fn is_unanswered(error: &Error) -> bool {
    matches!(error, Error::Transport(_))
}

fn log_error(action: &str, id: &SessionId, error: &Error) {
    tracing::info!(
        session = ?id,
        action,
        fault = ?error.fault(),
        status = error.api_error().map(|e| e.status),
        request_id = error.plain_request_id(),
        "the API refused or failed"
    );
}

/// What the page says when a request got no answer.
const UNANSWERED: &str = "The connection service did not answer. Try again: the same request is sent again, so nothing is done twice.";
/// What the page says of an answer outside the contract.
const UNEXPECTED: &str = "The connection service answered something unexpected. Try again.";

/// What the page says of an error of the connect: the API's message and its request id. The
/// connect's flow holds the password it sent, so the core has already taken it (and every
/// other secret of the request) out of the server's words.
fn connect_notice(error: &Error) -> Notice {
    let (message, request_id) = match error {
        Error::Api(api) => {
            let words = match (&api.title, &api.detail) {
                (Some(title), Some(detail)) => format!("{title}: {detail}"),
                (Some(text), None) | (None, Some(text)) => text.clone(),
                (None, None) => format!("The connection service answered {}.", api.status),
            };
            let message = match api.problem {
                Problem::WrongCredentials => {
                    format!("Your username or password was refused. ({words})")
                }
                Problem::ApiKey => {
                    format!("The form's API key was refused: tell the site's administrators. ({words})")
                }
                Problem::AccountRefused => {
                    format!("The provider refused this account: no code will help. ({words})")
                }
                Problem::RateLimited => {
                    format!("Too many requests right now; try again in a minute. ({words})")
                }
                _ => words,
            };
            (message, api.request_id.clone())
        }
        Error::Transport(_) => (UNANSWERED.to_owned(), None),
        Error::Malformed(_) => (UNEXPECTED.to_owned(), None),
        other => (other.to_string(), other.request_id().map(str::to_owned)),
    };
    Notice::Error { message, request_id }
}

fn alert_of(notice: &Notice) -> Option<Alert> {
    match notice {
        Notice::WrongCode => Some(Alert::new("That code was wrong. Check it and enter it again.")),
        Notice::Resent { sent: false } => Some(Alert::new(
            "The provider did not send the code again. Try another way.",
        )),
        Notice::TypeAgain => Some(Alert::new(
            "We could not confirm what you sent last: please enter it again. It is sent with the same key, so nothing is done twice.",
        )),
        Notice::Error { message, request_id } => Some(Alert {
            message: message.clone(),
            request_id: request_id.clone(),
        }),
        Notice::Resent { sent: true } => None,
    }
}

fn status_of(notice: &Notice) -> Option<String> {
    match notice {
        Notice::Resent { sent: true } => Some("The code was sent again.".to_owned()),
        _ => None,
    }
}

/// What the expired page says of a snapshot that cannot be resumed: the form's own words
/// only, as for every error of a resumed intent (see [`resumed_notice`]).
fn ended_message(error: &Error) -> &'static str {
    match error {
        Error::IntentExpired(_) => "The time to connect ran out. Start again to connect your account.",
        Error::IntentDestroyed(_) => "This connection attempt ended. Start again to connect your account.",
        _ => "This connection attempt cannot go on. Start again to connect your account.",
    }
}

/// What the page says of an error of an action on a resumed intent (a code, the approval in
/// the app, another way, a resend): the form's own words for the error's [`Problem`], the
/// HTTP status, the error's type if the core knows it, and the request id if it reads as one;
/// never the server's `title`, `detail`, a type of its own making or a sentence in the id.
///
/// Every request resumes the intent from its snapshot, which holds no password: the core of
/// a solve never saw the connect's password, so it cannot take out of the answer a password
/// the API echoes there. Only the connect ([`connect_notice`]) may show the API's words.
fn resumed_notice(error: &Error) -> Notice {
    let message = match error {
        Error::Api(api) => {
            let mut said = format!("HTTP {}", api.status);
            if let Some(kind) = api
                .kind
                .as_ref()
                .filter(|kind| !matches!(kind, ErrorType::Other(_)))
            {
                said.push_str(", ");
                said.push_str(kind.as_str());
            }
            format!("{} ({said})", problem_words(api.problem))
        }
        Error::Transport(_) => UNANSWERED.to_owned(),
        Error::Malformed(_) => UNEXPECTED.to_owned(),
        Error::IntentExpired(_) | Error::IntentDestroyed(_) => problem_words(Problem::IntentEnded).to_owned(),
        // The core's own words, with nothing of the server's in them.
        Error::Usage(usage) => format!("The form could not send this: {usage}. Open the page again."),
        _ => "The form could not send this. Open the page again.".to_owned(),
    };
    Notice::Error {
        message,
        request_id: error.plain_request_id().map(str::to_owned),
    }
}

/// The form's own words for what an error answer means.
fn problem_words(problem: Problem) -> &'static str {
    match problem {
        Problem::WrongCode => "That code was wrong. Check it and enter it again.",
        Problem::WrongCredentials => "Your username or password was refused.",
        Problem::InvalidRequest => {
            "The connection service refused what was sent as invalid. Check it and try again."
        }
        Problem::ApiKey => "The form's API key was refused: tell the site's administrators.",
        Problem::AccountRefused => "The provider refused this account: no code will help.",
        Problem::IdempotencyConflict => "The connection service refused to repeat a request. Try again.",
        Problem::NotFound => "The connection service does not know this connection attempt. Start again.",
        Problem::RateLimited => "Too many requests right now; try again in a minute.",
        Problem::ServerFailure => "The connection service failed. Try again in a moment.",
        Problem::IntentEnded => "This connection attempt ended. Start again to connect your account.",
        _ => "The connection service refused this request.",
    }
}
