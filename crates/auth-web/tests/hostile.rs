//! Hostile input over plain HTTP: forged forms, oversized and non-UTF-8 bodies, forged
//! cookies, HTML from the API, and the security headers and limits of every answer. Also the
//! embedding: the form nested under a prefix, the app's context and its one callback.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_sim::{Account, Checkpoint, Fault, FaultTarget, Fixture, Simulator};
use auth_web::wire::{CSRF_COOKIE, SESSION_COOKIE};
use auth_web::{CookieSecurity, IntentStore, MemoryStore, Notice};
use support::{Http, InProcessForm};

fn simulator() -> Simulator {
    Simulator::builder()
        .api_key(support::API_KEY)
        .fixture(
            Fixture::demo()
                .account(
                    Account::new("mallory", "pw-m").checkpoint(
                        Checkpoint::new("<b>BOLD</b>", "999999")
                            .extra("note", serde_json::json!("<script>alert('x')</script>")),
                    ),
                )
                .account(
                    Account::new("sluggish", "pw-sl").fault(
                        Fault::new()
                            .delay(Duration::from_millis(1000))
                            .on(FaultTarget::Connect),
                    ),
                )
                .account(
                    // The API fails the first solve after 700 ms and asks to be retried in
                    // a second: the core's retry makes the request outlast a 1 s lease.
                    Account::new("retried", "pw-r").checkpoint(
                        Checkpoint::new("2FA", "123456").fault(
                            Fault::new()
                                .delay(Duration::from_millis(700))
                                .force_status(503)
                                .retry_after_secs(1)
                                .on(FaultTarget::Solve)
                                .times(1),
                        ),
                    ),
                )
                .account(
                    Account::new("slow", "pw-s").checkpoint(
                        Checkpoint::new("2FA", "123456").fault(
                            Fault::new()
                                .delay(Duration::from_millis(1500))
                                .on(FaultTarget::Solve),
                        ),
                    ),
                ),
        )
        .start()
        .unwrap()
}

/// A browser that opened the start page: it holds the CSRF cookie.
async fn opened(form: &InProcessForm) -> Http {
    let http = Http::new();
    let page = http.get(&format!("{}/", form.url)).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.heading(), "Connect your Messenger account");
    http
}

/// A browser that opened the start page and connected `username`: it is on the page that
/// asks for the 2FA code.
async fn at_the_code_page(form: &InProcessForm, username: &str, password: &str) -> Http {
    let http = opened(form).await;
    let page = connect_as(&http, form, username, password).await;
    assert_eq!(page.heading(), "2FA", "{}", page.body);
    http
}

/// The session id of the record `http`'s cookie names.
fn session_of(http: &Http) -> auth_web::SessionId {
    auth_web::SessionId::parse(&http.cookie(SESSION_COOKIE).unwrap()).unwrap()
}

/// Marks `action` of the record `id` as sent with `key`, first at `first_sent_at`, and its
/// answer lost (as an instance that died before saving it leaves the record), with `notice`.
async fn lose(
    form: &InProcessForm,
    id: &auth_web::SessionId,
    lost: auth_web::KeyedAction,
    notice: Option<Notice>,
) {
    let versioned = form.store.load(id, form.clock.now()).await.unwrap().unwrap();
    let mut record = versioned.record.clone();
    record.lost = Some(lost);
    record.notice = notice;
    assert!(form.store.replace(id, versioned.revision, &record).await.unwrap());
}

/// Posts the start page's form with `username` and `password`, and follows to the page it
/// leads to.
async fn connect_as(http: &Http, form: &InProcessForm, username: &str, password: &str) -> support::Page {
    let fields = [("username", username), ("password", password)];
    http.post_and_follow(&form.url, "/connect", &fields).await
}

#[tokio::test]
async fn a_post_without_or_with_a_wrong_csrf_token_is_refused() {
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let http = opened(&form).await;
    let url = format!("{}/connect", form.url);
    let without = http
        .send(
            "POST",
            &url,
            Some("application/x-www-form-urlencoded"),
            b"username=bob&password=pw-b".to_vec(),
            &[],
        )
        .await;
    assert_eq!(without.status, 403);
    let wrong = http
        .post(
            &url,
            &[
                ("csrf", "0123456789abcdef0123456789abcdef"),
                ("username", "bob"),
                ("password", "pw-b"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 403);
    // A token without its cookie (another site's page cannot read or set ours).
    let token = http.cookie(CSRF_COOKIE).unwrap();
    let stranger = Http::new();
    let forged = stranger
        .post(
            &url,
            &[("csrf", &token), ("username", "bob"), ("password", "pw-b")],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(sim.requests().is_empty(), "nothing reached the API");
    // The right token goes through.
    let page = connect_as(&http, &form, "bob", "pw-b").await;
    assert_eq!(page.heading(), "2FA");
}

#[tokio::test]
async fn oversized_fields_and_bodies_are_refused() {
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let http = opened(&form).await;
    let url = format!("{}/connect", form.url);
    let long = "x".repeat(257);
    let page = http.post(&url, &[("username", &long), ("password", "pw")]).await;
    assert_eq!(page.status, 400, "{}", page.body);
    let page = http.post(&url, &[("username", "bob"), ("password", &long)]).await;
    assert_eq!(page.status, 400);
    let context = "c".repeat(513);
    let page = http
        .post(
            &url,
            &[("username", "bob"), ("password", "pw-b"), ("context", &context)],
        )
        .await;
    assert_eq!(page.status, 400);
    let huge = format!(
        "csrf={}&username=bob&password={}",
        http.cookie(CSRF_COOKIE).unwrap(),
        "p".repeat(64 * 1024)
    );
    let page = http
        .send(
            "POST",
            &url,
            Some("application/x-www-form-urlencoded"),
            huge.into_bytes(),
            &[],
        )
        .await;
    assert_eq!(page.status, 413);
    let page = http
        .get(&format!("{}/?context={}", form.url, "c".repeat(600)))
        .await;
    assert_eq!(page.status, 400);
    assert!(sim.requests().is_empty());
}

#[tokio::test]
async fn bytes_that_are_not_utf8_are_refused_cleanly() {
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let http = opened(&form).await;
    let token = http.cookie(CSRF_COOKIE).unwrap();
    let url = format!("{}/connect", form.url);
    for body in [
        format!("csrf={token}&username=%FF%FE&password=pw").into_bytes(),
        [
            format!("csrf={token}&username=").into_bytes(),
            vec![0xc3, 0x28],
            b"&password=pw".to_vec(),
        ]
        .concat(),
        format!("csrf={token}&username=bob&password=%E2%82").into_bytes(),
    ] {
        let page = http
            .send("POST", &url, Some("application/x-www-form-urlencoded"), body, &[])
            .await;
        assert_eq!(page.status, 400, "{}", page.body);
        assert!(page.body.contains("role=\"alert\""));
    }
    let page = http
        .send("POST", &url, Some("text/plain"), b"hello".to_vec(), &[])
        .await;
    assert_eq!(page.status, 415);
    let page = http
        .send(
            "GET",
            &format!("{}/?context=%FF", form.url),
            None,
            Vec::new(),
            &[],
        )
        .await;
    assert_eq!(page.status, 400);
    assert!(sim.requests().is_empty());
}

#[tokio::test]
async fn a_forged_or_stale_cookie_lands_on_the_start_page() {
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let http = opened(&form).await;
    for forged in [
        "../../etc/passwd",
        "0123",
        "ffffffffffffffffffffffffffffffff",
        "<script>",
    ] {
        http.set_cookie(SESSION_COOKIE, forged);
        let page = http.get(&format!("{}/", form.url)).await;
        assert_eq!(page.status, 200);
        assert_eq!(page.heading(), "Connect your Messenger account", "{forged}");
        let issued = http.cookie(SESSION_COOKIE).unwrap_or_default();
        assert!(
            issued != forged && auth_web::SessionId::parse(&issued).is_some(),
            "replaced by an id of our own: {issued}"
        );
        // A post with it acts on nothing.
        http.set_cookie(SESSION_COOKIE, forged);
        let page = http
            .post_and_follow(&form.url, "/solve", &[("code", "123456")])
            .await;
        assert_eq!(page.heading(), "Connect your Messenger account");
    }
    // Stale: a real session whose record the store has let go (its intent ended, and the
    // ten minutes after it passed).
    let page = connect_as(&http, &form, "bob", "pw-b").await;
    assert_eq!(page.heading(), "2FA");
    let stale = http.cookie(SESSION_COOKIE).unwrap();
    form.clock.advance(&sim, Duration::from_secs(300 + 600 + 1));
    let page = http.get(&format!("{}/", form.url)).await;
    assert_eq!(page.heading(), "Connect your Messenger account", "{}", page.body);
    let issued = http.cookie(SESSION_COOKIE).unwrap();
    assert_ne!(issued, stale, "the stale id is replaced");
    // A code posted with the stale cookie acts on nothing either.
    http.set_cookie(SESSION_COOKIE, &stale);
    let page = http
        .post_and_follow(&form.url, "/solve", &[("code", "123456")])
        .await;
    assert_eq!(page.heading(), "Connect your Messenger account");
    assert!(support::solves(&sim).is_empty(), "no solve was sent");
}

#[tokio::test]
async fn a_checkpoint_with_html_is_shown_as_text() {
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let http = opened(&form).await;
    let page = connect_as(&http, &form, "mallory", "pw-m").await;
    assert_eq!(page.heading(), "&#60;b&#62;BOLD&#60;/b&#62;", "{}", page.body);
    assert!(!page.body.contains("<b>BOLD"));
    assert!(!page.body.contains("<script>alert"));
    assert!(
        page.body
            .contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_strict_cookies() {
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let http = Http::new();
    for path in ["/", "/assets/form.js", "/nowhere", "/wait"] {
        let page = http.get(&format!("{}{path}", form.url)).await;
        let csp = page.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(page.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    }
    let page = Http::new().get(&format!("{}/", form.url)).await;
    assert!(!page.body.contains("<script>"), "no inline script");
    let cookie = page.headers_all("set-cookie").concat();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http on loopback");
    // Served to a public name (the server's own TLS, which puts no scheme in the URI): Secure.
    let public = Http::new()
        .send(
            "GET",
            &format!("{}/", form.url),
            None,
            Vec::new(),
            &[("host", "connect.example.com")],
        )
        .await;
    let cookie = public.headers_all("set-cookie").concat();
    assert!(cookie.contains("; Secure"), "{cookie}");

    // Secure behind a trusted https proxy, and when configured so.
    let behind_proxy = InProcessForm::start_with(&sim, |c| c.trust_forwarded_headers(true)).await;
    let page = Http::new()
        .send(
            "GET",
            &format!("{}/", behind_proxy.url),
            None,
            Vec::new(),
            &[("x-forwarded-proto", "https")],
        )
        .await;
    assert!(page.headers_all("set-cookie").concat().contains("; Secure"));
    let untrusted = Http::new()
        .send(
            "GET",
            &format!("{}/", form.url),
            None,
            Vec::new(),
            &[("x-forwarded-proto", "https")],
        )
        .await;
    assert!(!untrusted.headers_all("set-cookie").concat().contains("Secure"));
    let always = InProcessForm::start_with(&sim, |c| c.cookie_security(CookieSecurity::Always)).await;
    let page = Http::new().get(&format!("{}/", always.url)).await;
    assert!(page.headers_all("set-cookie").concat().contains("; Secure"));
}

#[tokio::test]
async fn connect_attempts_are_limited_per_address_and_per_session() {
    let sim = simulator();
    let form = InProcessForm::start_with(&sim, |c| {
        c.connects_per_ip(3, Duration::from_secs(60))
            .connects_per_session(2)
    })
    .await;
    // Per session: a wrong password twice, then refused without a request.
    let http = opened(&form).await;
    for _ in 0..2 {
        let page = connect_as(&http, &form, "bob", "wrong").await;
        assert!(
            page.role("alert").unwrap_or_default().contains("refused"),
            "{}",
            page.body
        );
    }
    let page = http
        .post(
            &format!("{}/connect", form.url),
            &[("username", "bob"), ("password", "wrong")],
        )
        .await;
    assert_eq!(page.status, 429);
    assert_eq!(sim.requests().len(), 2);
    // "Start again" keeps the count.
    let page = http.post_and_follow(&form.url, "/restart", &[]).await;
    assert_eq!(page.heading(), "Connect your Messenger account");
    let page = http
        .post(
            &format!("{}/connect", form.url),
            &[("username", "bob"), ("password", "wrong")],
        )
        .await;
    assert_eq!(
        page.status, 429,
        "Start again does not reset the per-session limit"
    );
    assert_eq!(sim.requests().len(), 2);
    // Per address: a third browser from the same address may try once more, then no.
    let other = opened(&form).await;
    let page = other
        .post(
            &format!("{}/connect", form.url),
            &[("username", "bob"), ("password", "wrong")],
        )
        .await;
    assert_eq!(page.status, 303);
    let third = opened(&form).await;
    let page = third
        .post(
            &format!("{}/connect", form.url),
            &[("username", "bob"), ("password", "wrong")],
        )
        .await;
    assert_eq!(page.status, 429);
    assert!(
        page.role("alert")
            .unwrap_or_default()
            .contains("Too many attempts")
    );
    assert_eq!(sim.requests().len(), 3);
}

#[tokio::test]
async fn a_double_submit_sends_one_solve() {
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let http = at_the_code_page(&form, "slow", "pw-s").await;
    let url = format!("{}/solve", form.url);
    let (first, second) = tokio::join!(http.post(&url, &[("code", "123456")]), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        http.post_and_follow(&form.url, "/solve", &[("code", "123456")])
            .await
    });
    assert_eq!(first.status, 303);
    // The second is sent to the page (a GET: reloading it posts nothing), which says so.
    assert_eq!(second.status, 200);
    assert_eq!(second.heading(), "Already being checked");
    assert!(
        second
            .role("status")
            .unwrap_or_default()
            .contains("already being checked")
    );
    assert_eq!(support::solves(&sim).len(), 1, "one solve reached the API");
    let page = http.get(&format!("{}/", form.url)).await;
    assert_eq!(page.heading(), "Connected");
    assert_eq!(form.connected.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn mounted_under_a_prefix_with_the_apps_context_and_one_callback() {
    let sim = simulator();
    let clock = support::SharedClock::default();
    let connected = Arc::new(Mutex::new(Vec::new()));
    let config = support::form_config(&sim, &clock, &connected).success_url("/settings/accounts");
    let store = Arc::new(MemoryStore::new());
    let app = axum::Router::new().nest("/connect/messenger", auth_web::router(config, Arc::clone(&store)));
    let (origin, _server) = support::serve(app).await;
    let base = format!("{origin}/connect/messenger");
    let http = Http::new();
    let page = http.get(&format!("{base}?context=user%3D42%26sig%3Dabc")).await;
    assert_eq!(page.heading(), "Connect your Messenger account");
    assert!(
        page.body.contains("action=\"/connect/messenger/connect\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("href=\"/connect/messenger/assets/form.css\""));
    assert!(
        page.headers_all("set-cookie")
            .concat()
            .contains("Path=/connect/messenger;")
    );
    let page = http
        .post_and_follow(
            &base,
            "/connect",
            &[
                ("username", "dave"),
                ("password", "pw-d"),
                ("context", "user=42&sig=abc"),
            ],
        )
        .await;
    assert_eq!(page.heading(), "2FA", "{}", page.body);
    let page = http.post_and_follow(&base, "/solve", &[("code", "111111")]).await;
    assert_eq!(page.heading(), "OTP");
    let page = http.post_and_follow(&base, "/solve", &[("code", "222222")]).await;
    assert_eq!(page.heading(), "Connected");
    assert!(
        page.body.contains("url=/settings/accounts"),
        "then the app's success URL"
    );
    // Reloading the page does not call the app again.
    for _ in 0..3 {
        assert_eq!(http.get(&base).await.heading(), "Connected");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let calls = connected.lock().unwrap().clone();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].1.as_deref(), Some("user=42&sig=abc"));
    assert_eq!(sim.connected_accounts()[0].account_id, calls[0].0);
}

#[tokio::test]
async fn no_secret_in_any_page_header_log_line_or_store_dump() {
    let (_logging, logs) = support::capture_logs();
    let password = support::random_secret("pw-");
    let code = support::random_secret("code-");
    let sim = Simulator::builder()
        .api_key(support::API_KEY)
        .fixture(Fixture::new().account(
            Account::new("zoe", password.as_str()).checkpoint(Checkpoint::new("2FA", code.as_str())),
        ))
        .start()
        .unwrap();
    let form = InProcessForm::start(&sim).await;
    let http = opened(&form).await;
    let mut seen = Vec::new();
    let keep = |page: &support::Page, seen: &mut Vec<String>| {
        seen.push(page.body.clone());
        seen.extend(page.headers.iter().map(|(n, v)| format!("{n}: {v}")));
    };
    // A wrong password, a wrong code, then the right ones: everything shown and stored.
    let page = http
        .post_and_follow(
            &form.url,
            "/connect",
            &[("username", "zoe"), ("password", &format!("{password}x"))],
        )
        .await;
    keep(&page, &mut seen);
    let page = connect_as(&http, &form, "zoe", &password).await;
    keep(&page, &mut seen);
    seen.push(form.dump().await);
    let page = http
        .post_and_follow(&form.url, "/solve", &[("code", &format!("{code}x"))])
        .await;
    keep(&page, &mut seen);
    seen.push(form.dump().await);
    let page = http
        .post_and_follow(&form.url, "/solve", &[("code", &code)])
        .await;
    assert_eq!(page.heading(), "Connected");
    keep(&page, &mut seen);
    seen.push(form.dump().await);
    let logged = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(
        logged.contains("DEBUG") && logged.contains("sending") && logged.contains("connected"),
        "every level was captured: {logged}"
    );
    seen.push(logged);
    let everything = seen.join("\n");
    for secret in [&password, &code, &support::API_KEY.to_owned()] {
        assert!(!everything.contains(secret.as_str()), "{secret} leaked");
    }
    assert!(everything.contains("\"snapshot\""), "the store dump was read");
}

#[tokio::test]
async fn a_csrf_cookie_that_expired_mid_flow_is_given_back_with_the_page() {
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let http = at_the_code_page(&form, "bob", "pw-b").await;
    let token = http.cookie(CSRF_COOKIE).unwrap();
    http.jar.lock().unwrap().remove(CSRF_COOKIE);
    let page = http.get(&format!("{}/", form.url)).await;
    assert_eq!(
        page.csrf().as_deref(),
        Some(token.as_str()),
        "the record's token in the form"
    );
    assert_eq!(
        http.cookie(CSRF_COOKIE).as_deref(),
        Some(token.as_str()),
        "and in the cookie again"
    );
    let page = http
        .post_and_follow(&form.url, "/solve", &[("code", "123456")])
        .await;
    assert_eq!(page.heading(), "Connected");
}

#[tokio::test]
async fn a_waiting_page_whose_store_fails_is_told_to_back_off() {
    let sim = simulator();
    let clock = support::SharedClock::default();
    let connected = Arc::new(Mutex::new(Vec::new()));
    let store = Arc::new(support::FlakyStore::default());
    let config = support::form_config(&sim, &clock, &connected);
    let (url, _server) = support::serve(auth_web::router(config, Arc::clone(&store))).await;
    let http = Http::new();
    http.get(&format!("{url}/")).await;
    let page = http
        .post_and_follow(&url, "/connect", &[("username", "bob"), ("password", "pw-b")])
        .await;
    assert_eq!(page.heading(), "2FA");
    store.set_down(true);
    // The waiting page's script polls /wait again at once after a 200 {"done":false}, and
    // after a second on anything else: a store that is down must not be polled in a loop.
    let answer = http.get(&format!("{url}/wait")).await;
    assert_eq!(answer.status, 503, "{}", answer.body);
    store.set_down(false);
    let answer = http.get(&format!("{url}/wait")).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, r#"{"done":true}"#));
}

#[tokio::test]
async fn a_double_click_on_connect_sends_one_connect() {
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    // The start page issues the session id with the CSRF token, before anything is stored.
    let http = opened(&form).await;
    assert!(
        http.cookie(SESSION_COOKIE).is_some(),
        "the start page gives a session id"
    );
    let fields = [("username", "sluggish"), ("password", "pw-sl")];
    let url = format!("{}/connect", form.url);
    let (first, second) = tokio::join!(http.post(&url, &fields), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        http.post_and_follow(&form.url, "/connect", &fields).await
    });
    let connects = sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/accounts"))
        .count();
    assert_eq!(connects, 1, "one POST /accounts: one intent, one SMS");
    assert_eq!(first.status, 303);
    assert_eq!(second.heading(), "Already being checked", "{}", second.body);
    let page = http.get(&format!("{}/", form.url)).await;
    assert_eq!(page.heading(), "Connected");
    assert_eq!(form.connected.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_request_that_outlasts_its_lease_keeps_it() {
    let sim = simulator();
    let form = InProcessForm::start_with(&sim, |c| {
        c.request_timeout(Duration::from_secs(1))
            .lease(Duration::from_secs(1))
    })
    .await;
    let http = at_the_code_page(&form, "retried", "pw-r").await;
    let solve = {
        let http = http.clone();
        let url = format!("{}/solve", form.url);
        tokio::spawn(async move { http.post(&url, &[("code", "123456")]).await })
    };
    // Past the lease the solve took: the page must not take it over (which would ask for
    // the code again, and drop the API's answer when it comes).
    tokio::time::sleep(Duration::from_millis(1400)).await;
    let page = http.get(&format!("{}/", form.url)).await;
    assert_eq!(page.heading(), "Already being checked", "{}", page.body);
    assert_eq!(solve.await.unwrap().status, 303);
    let page = http.get(&format!("{}/", form.url)).await;
    assert_eq!(page.heading(), "Connected", "{}", page.body);
    assert_eq!(form.connected.lock().unwrap().len(), 1, "the app was told");
    assert_eq!(support::solves(&sim).len(), 2, "a 503, then the core's retry");
}

#[tokio::test]
async fn a_browser_that_goes_away_mid_solve_cancels_nothing() {
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let http = at_the_code_page(&form, "slow", "pw-s").await;
    // The API takes 1.5 s to answer; the tab is closed after 300 ms.
    http.post_and_hang_up(
        &format!("{}/solve", form.url),
        &[("code", "123456")],
        Duration::from_millis(300),
    )
    .await;
    assert_eq!(support::solves(&sim).len(), 1, "the solve was sent");
    // The solve's answer is still saved and the app still told, once.
    let page_url = format!("{}/", form.url);
    support::eventually("the connection is finished", Duration::from_secs(10), || {
        let (http, page_url) = (http.clone(), page_url.clone());
        async move { http.get(&page_url).await.heading() == "Connected" }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(form.connected.lock().unwrap().len(), 1, "the app was told once");
    assert_eq!(support::solves(&sim).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_slower_than_the_lease_is_called_once() {
    let sim = simulator();
    let (started, finished) = (Arc::new(Mutex::new(0)), Arc::new(Mutex::new(0)));
    let form = {
        let (started, finished) = (Arc::clone(&started), Arc::clone(&finished));
        InProcessForm::start_with(&sim, move |c| {
            c.request_timeout(Duration::from_secs(1))
                .lease(Duration::from_secs(1))
                .on_connected(move |_| {
                    let (started, finished) = (Arc::clone(&started), Arc::clone(&finished));
                    async move {
                        *started.lock().unwrap() += 1;
                        // The app's own work: slower than the lease.
                        tokio::time::sleep(Duration::from_millis(2500)).await;
                        *finished.lock().unwrap() += 1;
                    }
                })
        })
        .await
    };
    let http = opened(&form).await;
    // alice connects at once: the callback runs while the browser waits.
    let connect = {
        let http = http.clone();
        let url = format!("{}/connect", form.url);
        tokio::spawn(async move {
            http.post(&url, &[("username", "alice"), ("password", "pw-a")])
                .await
        })
    };
    // Meanwhile the page is loaded again and again (another tab, another instance): none of
    // these may take the callback over while its instance is alive.
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        http.get(&format!("{}/", form.url)).await;
    }
    assert_eq!(connect.await.unwrap().status, 303);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(http.get(&format!("{}/", form.url)).await.heading(), "Connected");
    assert_eq!(*started.lock().unwrap(), 1, "the callback was called once");
    assert_eq!(*finished.lock().unwrap(), 1, "and ran to its end");
}

#[tokio::test]
async fn a_kept_key_meeting_a_corrected_code_is_sent_again_under_a_fresh_key() {
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let http = at_the_code_page(&form, "bob", "pw-b").await;
    // An instance sent a wrong code with key K and died before it could save the answer;
    // another took its lease over and kept K for the same action ("type it again").
    let id = session_of(&http);
    let versioned = form.store.load(&id, form.clock.now()).await.unwrap().unwrap();
    let auth_web::Stage::Pending { snapshot } = &versioned.record.stage else {
        panic!("pending")
    };
    let key = auth_core::IdempotencyKey::from_random_bytes([7; 16]);
    let client = auth_reqwest::Client::builder()
        .base_url(sim.base_url())
        .api_key(support::API_KEY)
        .build()
        .unwrap();
    let mut dead = client.resume(snapshot.clone()).unwrap();
    let wrong = dead
        .solve_with_key(auth_core::Solution::code("000000"), key)
        .await;
    assert!(wrong.is_err(), "the server kept K's answer: a wrong code");
    let lost = auth_web::KeyedAction {
        action: auth_web::Action::SolveCode,
        key,
        first_sent_at: Some(form.clock.now()),
    };
    lose(&form, &id, lost, Some(Notice::TypeAgain)).await;

    // The user types the right code: sent with K, the API answers 409 (K went with another
    // code), and the form sends it again under a fresh key instead of showing the 409.
    let page = http
        .post_and_follow(&form.url, "/solve", &[("code", "123456")])
        .await;
    assert_eq!(page.heading(), "Connected", "{}", page.body);
    let keys: Vec<String> = support::solves(&sim)
        .iter()
        .map(|r| r.header("idempotency-key").unwrap_or_default().to_owned())
        .collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert_eq!((keys[0].as_str(), keys[1].as_str()), (key.as_str(), key.as_str()));
    assert_ne!(keys[2], key.as_str(), "a fresh key");
    assert_eq!(form.connected.lock().unwrap().len(), 1);
}

/// A connect whose answer was lost (its instance died after sending it with key K) is sent
/// again with K when the password is typed again a minute later: the server replays the
/// intent it started, and the page counts down from that intent's deadline, not from a fresh
/// five minutes.
#[tokio::test]
async fn a_connect_sent_again_after_its_answer_was_lost_keeps_the_first_deadline() {
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let http = opened(&form).await;
    // A first try with a wrong password makes this browser's record.
    let page = connect_as(&http, &form, "bob", "wrong").await;
    assert_eq!(page.heading(), "Connect your Messenger account");
    let id = session_of(&http);

    // Another instance sent bob's connect with K at `first`, and died before saving it.
    let key = auth_core::IdempotencyKey::from_random_bytes([9; 16]);
    let first = form.clock.now();
    let client = auth_reqwest::Client::builder()
        .base_url(sim.base_url())
        .api_key(support::API_KEY)
        .build()
        .unwrap();
    let credentials = auth_core::Credentials::messenger("bob", "pw-b");
    let auth_reqwest::Connection::Pending(dead) = client.connect_with_key(credentials, key).await.unwrap()
    else {
        panic!("bob has a checkpoint")
    };
    let lost = auth_web::KeyedAction {
        action: auth_web::Action::Connect,
        key,
        first_sent_at: Some(first),
    };
    lose(&form, &id, lost, Some(Notice::TypeAgain)).await;

    form.clock.advance(&sim, Duration::from_secs(60));
    let page = connect_as(&http, &form, "bob", "pw-b").await;
    assert_eq!(page.heading(), "2FA", "{}", page.body);
    assert_eq!(sim.pending_intents(), 1, "the same intent, not a second login");
    let versioned = form.store.load(&id, form.clock.now()).await.unwrap().unwrap();
    let auth_web::Stage::Pending { snapshot } = &versioned.record.stage else {
        panic!("pending")
    };
    let intent = snapshot.intent().unwrap();
    assert_eq!(intent.account_id, *dead.account_id());
    assert_eq!(intent.started_at, first, "counted from the first send");
    let left = intent.remaining(form.clock.now());
    assert!(
        left <= Duration::from_secs(240),
        "not a fresh five minutes: {left:?}"
    );
    let keys: Vec<String> = sim
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/accounts"))
        .map(|r| r.header("idempotency-key").unwrap_or_default().to_owned())
        .collect();
    assert_eq!(keys[keys.len() - 2..], [key.as_str(), key.as_str()], "{keys:?}");
}

/// A connect kept from an intent's life ago (the server may never have got it) is forgotten:
/// typed again, it goes under a new key and its intent counts from now, instead of ending at
/// once against a deadline long past.
#[tokio::test]
async fn a_connect_kept_from_an_intents_life_ago_goes_under_a_new_key() {
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let http = opened(&form).await;
    let page = connect_as(&http, &form, "bob", "wrong").await;
    assert_eq!(page.heading(), "Connect your Messenger account");
    let id = session_of(&http);
    let key = auth_core::IdempotencyKey::from_random_bytes([11; 16]);
    let now = form.clock.now();
    let lost = auth_web::KeyedAction {
        action: auth_web::Action::Connect,
        key,
        first_sent_at: Some(auth_core::UnixMillis::from_millis(now.as_millis() - 301_000)),
    };
    lose(&form, &id, lost, None).await;
    let page = connect_as(&http, &form, "bob", "pw-b").await;
    assert_eq!(page.heading(), "2FA", "{}", page.body);
    let last = sim
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.path.ends_with("/accounts"))
        .unwrap();
    assert_ne!(last.header("idempotency-key"), Some(key.as_str()), "a new key");
    let versioned = form.store.load(&id, form.clock.now()).await.unwrap().unwrap();
    let auth_web::Stage::Pending { snapshot } = &versioned.record.stage else {
        panic!("pending")
    };
    assert!(snapshot.intent().unwrap().started_at >= now, "counted from now");
}

/// An API that answers the connect with a 2FA checkpoint, and every later request with a
/// refusal whose words echo `echoed`, as a careless API may echo the connect's password: the
/// solve a `400` of a known type, the resend a `401` of a type of its own making.
fn an_api_echoing(echoed: &str) -> axum::Router {
    use axum::http::StatusCode;
    use axum::routing::post;
    let json = |status: StatusCode, body: String| (status, [("content-type", "application/json")], body);
    let solve = format!(
        r#"{{"status":400,"type":"errors/invalid_parameters","title":"Invalid parameters","detail":"login zoe/{echoed} rejected the code","instance":"req-solve-1"}}"#
    );
    let resend = format!(
        r#"{{"status":401,"type":"errors/no_resend_for_{echoed}","title":"No resend for {echoed}","instance":"resend for zoe/{echoed}"}}"#
    );
    axum::Router::new()
        .route(
            "/accounts",
            post(move || async move {
                json(
                    StatusCode::ACCEPTED,
                    r#"{"object":"Checkpoint","account_id":"acc_1","checkpoint":{"type":"2FA"}}"#.to_owned(),
                )
            }),
        )
        .route(
            "/accounts/checkpoint",
            post(move || async move { json(StatusCode::BAD_REQUEST, solve) }),
        )
        .route(
            "/accounts/checkpoint/resend",
            post(move || async move { json(StatusCode::UNAUTHORIZED, resend) }),
        )
}

#[tokio::test]
async fn a_password_the_api_echoes_to_a_later_solve_or_resend_reaches_no_page_log_or_store() {
    let (_logging, logs) = support::capture_logs();
    let password = support::random_secret("pw-");
    let (api_url, _api) = support::serve(an_api_echoing(&password)).await;
    let store = Arc::new(MemoryStore::new());
    let config = auth_web::FormConfig::new(support::API_KEY).base_url(api_url);
    let (url, _form) = support::serve(auth_web::router(config, Arc::clone(&store))).await;
    let http = Http::new();
    http.get(&format!("{url}/")).await;
    let page = http
        .post_and_follow(&url, "/connect", &[("username", "zoe"), ("password", &password)])
        .await;
    assert_eq!(page.heading(), "2FA", "{}", page.body);
    // Each request resumes the intent from its snapshot, which holds no password: the core
    // cannot take it out of the answer, so the form must not show the API's words.
    let mut seen = Vec::new();
    let mut alerts = Vec::new();
    for (path, fields) in [("/solve", &[("code", "123456")][..]), ("/resend", &[][..])] {
        let page = http.post_and_follow(&url, path, fields).await;
        assert_eq!(page.heading(), "2FA", "{path}: {}", page.body);
        alerts.push(page.role("alert").unwrap_or_default());
        seen.push(page.body);
        seen.push(store.dump().await.unwrap().join("\n"));
    }
    // Every log line: the form's, and the core's events (which tell no free text of the
    // server's, for the same reason).
    let logged = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(
        logged.contains("auth_web") && logged.contains("auth_core::observe: failed"),
        "the form's and the core's lines were captured: {logged}"
    );
    seen.push(logged);
    let everything = seen.join("\n");
    assert!(
        !everything.contains(&password),
        "the password leaked: {everything}"
    );
    // What the alerts say instead: the form's own words, the status, a type the form knows
    // (not one of the server's making) and the request id when it reads as one (the
    // resend's is a sentence echoing the password: left out).
    for (alert, said) in alerts.iter().zip([
        &["400", "errors/invalid_parameters", "req-solve-1"][..],
        &["401", "refused"][..],
    ]) {
        for words in said {
            assert!(alert.contains(words), "{words} in {alert:?}");
        }
        assert!(!alert.contains("no_resend"), "{alert:?}");
        assert!(!alert.contains("resend for"), "{alert:?}");
    }
}

#[tokio::test]
async fn an_intent_that_ended_with_the_apis_words_is_shown_in_the_forms_own() {
    use auth_core::{Answer, Command, Config, Credentials, Flow, IdempotencyKey, Input, Solution};
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let http = opened(&form).await;
    let password = support::random_secret("pw-");
    // A snapshot of an intent the provider refused in an answer that echoes the password,
    // to a solve of the intent resumed (as every request of the form resumes it): that core
    // never saw the password, so its words are the server's, unscrubbed.
    let now = form.clock.now();
    let mut connecting = Flow::new(Config::new(support::API_KEY));
    let connect = Command::Connect(Credentials::messenger("zoe", password.as_str()));
    connecting.handle(
        now,
        Input::command(connect, IdempotencyKey::from_random_bytes([1; 16])),
    );
    connecting.handle(
        now,
        Input::Answer(Answer::new(
            202,
            r#"{"object":"Checkpoint","account_id":"acc_1","checkpoint":{"type":"2FA"}}"#,
        )),
    );
    let mut resumed = Flow::resume(Config::new(support::API_KEY), connecting.snapshot());
    let solve = Command::Solve(Solution::code("123456"));
    resumed.handle(
        now,
        Input::command(solve, IdempotencyKey::from_random_bytes([2; 16])),
    );
    let refusal = format!(
        r#"{{"status":403,"type":"errors/account_restricted","title":"Restricted","detail":"zoe/{password} is restricted"}}"#
    );
    resumed.handle(now, Input::Answer(Answer::new(403, refusal)));
    let id = session_of(&http);
    let mut record = auth_web::Record::new(
        http.cookie(CSRF_COOKIE).unwrap(),
        None,
        now.saturating_add(Duration::from_secs(600)),
    );
    record.stage = auth_web::Stage::Pending {
        snapshot: resumed.snapshot(),
    };
    form.store.create(&id, &record, now).await.unwrap();

    let page = http.get(&format!("{}/", form.url)).await;
    assert_eq!(page.heading(), "Expired", "{}", page.body);
    assert!(
        !page.body.contains(&password),
        "the password leaked: {}",
        page.body
    );
}

/// The context a page's form carries in its hidden field.
fn hidden_context(page: &support::Page) -> Option<String> {
    support::between(&page.body, "name=\"context\" value=\"", "\"")
}

/// Posts the start page's form as a browser would: the username, the password and the
/// page's hidden context.
async fn submit_start_page(
    http: &Http,
    form: &InProcessForm,
    page: &support::Page,
    username: &str,
    password: &str,
) -> support::Page {
    let context = hidden_context(page);
    let mut fields = vec![("username", username), ("password", password)];
    if let Some(context) = context.as_deref() {
        fields.push(("context", context));
    }
    http.post_and_follow(&form.url, "/connect", &fields).await
}

#[tokio::test]
async fn a_link_with_another_context_starts_afresh_and_the_app_is_told_the_new_one() {
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let http = Http::new();
    // The app sends its user A to the form, who mistypes the password.
    let page = http.get(&format!("{}/?context=user-A", form.url)).await;
    assert_eq!(hidden_context(&page).as_deref(), Some("user-A"));
    let page = submit_start_page(&http, &form, &page, "bob", "wrong").await;
    assert_eq!(page.heading(), "Connect your Messenger account", "{}", page.body);
    let session_a = http.cookie(SESSION_COOKIE).unwrap();
    // Then its user B, in the same browser, follows the app's link for B.
    let page = http.get(&format!("{}/?context=user-B", form.url)).await;
    assert_eq!(hidden_context(&page).as_deref(), Some("user-B"), "{}", page.body);
    assert!(
        page.role("alert").is_none(),
        "nothing of A's attempt: {}",
        page.body
    );
    assert_ne!(http.cookie(SESSION_COOKIE).unwrap(), session_a, "a new session");
    let page = submit_start_page(&http, &form, &page, "alice", "pw-a").await;
    assert_eq!(page.heading(), "Connected", "{}", page.body);
    support::eventually("the app is told", Duration::from_secs(10), || async {
        !form.connected.lock().unwrap().is_empty()
    })
    .await;
    let calls = form.connected.lock().unwrap().clone();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].1.as_deref(), Some("user-B"), "{calls:?}");
    // A's record lives on as it was.
    let id = auth_web::SessionId::parse(&session_a).unwrap();
    let a = form.store.load(&id, form.clock.now()).await.unwrap().unwrap();
    assert_eq!(a.record.context.as_deref(), Some("user-A"));
    assert_eq!(a.record.connect_attempts, 1);
}

#[tokio::test]
async fn a_link_with_another_context_after_a_connection_asks_for_the_next_account() {
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let http = Http::new();
    let page = http.get(&format!("{}/?context=workspace-1", form.url)).await;
    let page = submit_start_page(&http, &form, &page, "alice", "pw-a").await;
    assert_eq!(page.heading(), "Connected");
    // The same link, or the page without one, still says where that attempt is.
    for link in ["/?context=workspace-1", "/"] {
        let page = http.get(&format!("{}{link}", form.url)).await;
        assert_eq!(page.heading(), "Connected", "{link}");
    }
    // The app links the same browser to connect an account for workspace 2.
    let page = http.get(&format!("{}/?context=workspace-2", form.url)).await;
    assert_eq!(page.heading(), "Connect your Messenger account", "{}", page.body);
    assert_eq!(hidden_context(&page).as_deref(), Some("workspace-2"));
}

/// Posts a wrong password to connect from a browser that opened the start page, with extra
/// headers; the answer's status.
async fn connect_with_headers(form: &InProcessForm, headers: &[(&str, &str)]) -> u16 {
    let http = opened(form).await;
    let body = format!(
        "csrf={}&username=bob&password=wrong",
        support::encode(&http.cookie(CSRF_COOKIE).unwrap())
    );
    let url = format!("{}/connect", form.url);
    let content_type = Some("application/x-www-form-urlencoded");
    http.send("POST", &url, content_type, body.into_bytes(), headers)
        .await
        .status
}

#[tokio::test]
async fn behind_a_proxy_the_per_address_limit_counts_the_line_the_proxy_appended() {
    let sim = simulator();
    let form = InProcessForm::start_with(&sim, |c| {
        c.trust_forwarded_headers(true)
            .connects_per_ip(1, Duration::from_secs(60))
    })
    .await;
    let mut statuses = Vec::new();
    for n in 0..4 {
        // What HAProxy's `option forwardfor` passes on: the client's own header line first,
        // its own line last.
        let client_said = format!("198.51.100.{n}");
        let headers = [
            ("x-forwarded-for", client_said.as_str()),
            ("x-forwarded-for", "192.0.2.1, 203.0.113.7"),
        ];
        statuses.push(connect_with_headers(&form, &headers).await);
    }
    assert_eq!(statuses, [303, 429, 429, 429], "one client, one connect a minute");
    assert_eq!(sim.requests().len(), 1);
}

#[tokio::test]
async fn behind_a_proxy_cookies_are_secure_by_the_proto_the_proxy_appended() {
    let sim = simulator();
    let form = InProcessForm::start_with(&sim, |c| c.trust_forwarded_headers(true)).await;
    let page = Http::new()
        .send(
            "GET",
            &format!("{}/", form.url),
            None,
            Vec::new(),
            &[("x-forwarded-proto", "http"), ("x-forwarded-proto", "https")],
        )
        .await;
    let cookies = page.headers_all("set-cookie").concat();
    assert!(cookies.contains("; Secure"), "{cookies}");
}

#[tokio::test]
async fn a_cookie_of_the_app_beyond_ascii_leaves_the_forms_own_readable() {
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let http = opened(&form).await;
    // The embedding app (same site, `Path=/`) keeps a cookie whose value is UTF-8, as
    // `document.cookie = "city=Zürich"` makes browsers send.
    http.set_cookie("city", "Zürich");
    let page = connect_as(&http, &form, "bob", "pw-b").await;
    assert_eq!(page.heading(), "2FA", "{}", page.body);
    let page = http.get(&format!("{}/", form.url)).await;
    assert_eq!(page.heading(), "2FA", "the page of the record: {}", page.body);
}

#[tokio::test]
async fn behind_a_proxy_the_per_address_limit_counts_an_ipv6_network_as_one_client() {
    let sim = simulator();
    let form = InProcessForm::start_with(&sim, |c| {
        c.trust_forwarded_headers(true)
            .connects_per_ip(1, Duration::from_secs(60))
    })
    .await;
    let mut statuses = Vec::new();
    // One client's /64 holds 2^64 addresses: each of them is the same client.
    for n in 1..=4 {
        let address = format!("2001:db8:1:2::{n:x}");
        statuses.push(connect_with_headers(&form, &[("x-forwarded-for", address.as_str())]).await);
    }
    // Another network, and an IPv4 client written as IPv6 and as itself: two more clients.
    for address in ["2001:db8:1:3::1", "::ffff:203.0.113.9", "203.0.113.9"] {
        statuses.push(connect_with_headers(&form, &[("x-forwarded-for", address)]).await);
    }
    assert_eq!(statuses, [303, 429, 429, 429, 303, 303, 429]);
    assert_eq!(sim.requests().len(), 3);
}

/// Notes when each cookie an answer sets runs out in the browser, by the form's clock.
fn note_cookie_expiries(expiries: &mut Vec<(String, u64)>, page: &support::Page, now_ms: u64) {
    for cookie in page.headers_all("set-cookie") {
        let name = cookie.split('=').next().unwrap_or_default().to_owned();
        let max_age: u64 = support::between(cookie, "Max-Age=", ";")
            .unwrap()
            .parse()
            .unwrap();
        expiries.retain(|(kept, _)| *kept != name);
        expiries.push((name, now_ms + max_age * 1000));
    }
}

#[tokio::test]
async fn the_cookies_outlive_an_intent_that_starts_long_after_the_start_page_and_lasts_long() {
    let sim = simulator();
    let form = InProcessForm::start_with(&sim, |c| c.intent_ttl(Duration::from_secs(2 * 3600))).await;
    let http = Http::new();
    let mut expiries = Vec::new();
    let start = http.get(&format!("{}/", form.url)).await;
    note_cookie_expiries(&mut expiries, &start, form.clock.now().as_millis());
    // The person fills the form in 58 minutes later, and the intent lasts two hours.
    form.clock.advance(&sim, Duration::from_secs(58 * 60));
    let fields = [("username", "bob"), ("password", "pw-b")];
    let answer = http.post(&format!("{}/connect", form.url), &fields).await;
    assert_eq!(answer.status, 303);
    note_cookie_expiries(&mut expiries, &answer, form.clock.now().as_millis());
    let page = http.get(&format!("{}/", form.url)).await;
    assert_eq!(page.heading(), "2FA", "{}", page.body);
    let now = form.clock.now().as_millis();
    note_cookie_expiries(&mut expiries, &page, now);
    let left: u64 = support::between(&page.body, "data-remaining-ms=\"", "\"")
        .unwrap()
        .parse()
        .unwrap();
    assert!(left > 3600 * 1000, "a two-hour intent: {left} ms left");
    for name in [SESSION_COOKIE, CSRF_COOKIE] {
        let (_, until) = expiries.iter().find(|(kept, _)| kept == name).unwrap();
        assert!(
            *until >= now + left,
            "{name} runs out {} s before the intent: {expiries:?}",
            (now + left - until) / 1000
        );
    }
}

#[tokio::test]
async fn a_proxy_on_the_same_machine_that_is_not_trusted_is_warned_of_cookies_without_secure() {
    let (_logging, logs) = support::capture_logs();
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let url = format!("{}/", form.url);
    // Without a proxy: plain http on loopback, as a developer runs it, and no warning.
    let page = Http::new().get(&url).await;
    assert!(!page.headers_all("set-cookie").concat().contains("Secure"));
    let warned = || String::from_utf8_lossy(&logs.lock().unwrap()).contains("without Secure");
    assert!(!warned());
    // nginx in front on the same machine (`proxy_pass http://127.0.0.1:…`, which sends its
    // own `Host`), serving https, and the form not told to trust it.
    let proxied = [("x-forwarded-proto", "https"), ("x-forwarded-for", "203.0.113.7")];
    let page = Http::new().send("GET", &url, None, Vec::new(), &proxied).await;
    assert!(!page.headers_all("set-cookie").concat().contains("Secure"));
    assert!(warned(), "the operator is told");
}
