//! The form in a real browser (headless Chromium over WebDriver) against the simulator: every
//! page found by its roles and names, as a person with a screen reader would. Each test keeps
//! screenshots of its pages in `docs/screenshots/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod support;

use std::time::Duration;

use auth_sim::{Account, Checkpoint, Fault, FaultTarget, Fixture, Simulator};
use support::browser::Browser;
use support::{InProcessForm, eventually};

/// One browser at a time: the machine has two cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn fixture() -> Fixture {
    Fixture::demo()
        .account(
            Account::new("erin", "pw-e").checkpoint(
                Checkpoint::new("2FA", "123456")
                    .source("SMS")
                    .another_way(Checkpoint::new("OTP", "777777")),
            ),
        )
        .account(
            Account::new("frank", "pw-f").checkpoint(
                Checkpoint::new("FACE_SCAN", "424242")
                    .extra(
                        "hint",
                        serde_json::json!("<script>document.title='owned'</script><b>look up</b>"),
                    )
                    .extra("device", serde_json::json!("<img src=x onerror=alert(1)>")),
            ),
        )
        .account(
            Account::new("hank", "pw-h").checkpoint(
                Checkpoint::new("2FA", "123456").fault(
                    Fault::new()
                        .delay(Duration::from_millis(3000))
                        .on(FaultTarget::Solve)
                        .times(1),
                ),
            ),
        )
        .account(
            Account::new("gina", "pw-g").checkpoint(
                Checkpoint::new("2FA", "123456").fault(
                    Fault::new()
                        .force_status(400)
                        .force_type("errors/invalid_parameters")
                        .on(FaultTarget::Solve)
                        .times(1),
                ),
            ),
        )
}

fn simulator() -> Simulator {
    Simulator::builder()
        .api_key(support::API_KEY)
        .fixture(fixture())
        .manual_clock()
        .start()
        .unwrap()
}

/// Opens the form, signs in as `user`.
async fn sign_in(browser: &Browser, form: &InProcessForm, user: &str, password: &str) {
    browser.goto(&format!("{}/", form.url)).await;
    browser.heading("Connect your Messenger account").await;
    browser.fill("Username", user).await;
    browser.fill("Password", password).await;
    browser.click("Connect").await;
}

/// Types `code` in the code field and submits it.
async fn submit_code(browser: &Browser, code: &str) {
    browser.fill("Code", code).await;
    browser.click("Submit code").await;
}

/// carol signs in and chooses the approval in the app: the page says it waits, and the
/// simulator holds the request until the approval comes.
async fn approving_in_the_app(browser: &Browser, form: &InProcessForm, sim: &Simulator) {
    sign_in(browser, form, "carol", "pw-c").await;
    browser.heading("2FA").await;
    browser.click("Approve in the app").await;
    let status = browser.text_of("status").await;
    assert!(status.contains("Waiting for your approval"), "{status}");
    eventually(
        "the simulator holds the in-app request",
        Duration::from_secs(20),
        || async { sim.held_requests() == 1 },
    )
    .await;
}

/// The `M:SS` the timer shows, in seconds.
async fn timer_seconds(browser: &Browser) -> u64 {
    let text = browser.text_of("timer").await;
    let (minutes, seconds) = text
        .trim()
        .split_once(':')
        .unwrap_or_else(|| panic!("timer shows {text:?}"));
    minutes.parse::<u64>().unwrap() * 60 + seconds.parse::<u64>().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_factor_code_connects() {
    let _one = ONE_AT_A_TIME.lock().await;
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let browser = Browser::start(true).await;

    browser.goto(&format!("{}/", form.url)).await;
    browser.heading("Connect your Messenger account").await;
    browser.by_role("textbox", "Username").await;
    browser.by_role("button", "Connect").await;
    browser.screenshot("start").await;
    browser.fill("Username", "bob").await;
    browser.fill("Password", "pw-b").await;
    browser.click("Connect").await;

    browser.heading("2FA").await;
    let left = timer_seconds(&browser).await;
    assert!(
        (290..=300).contains(&left),
        "the timer counts down from the intent's deadline: {left}"
    );
    eventually(
        "the timer counts down by itself",
        Duration::from_secs(20),
        || async { timer_seconds(&browser).await < left },
    )
    .await;
    for name in [
        "Submit code",
        "Approve in the app",
        "Resend code",
        "Try another way",
    ] {
        browser.by_role("button", name).await;
    }
    browser.by_role("textbox", "Code").await;
    browser.screenshot("checkpoint").await;
    submit_code(&browser, "123456").await;

    browser.heading("Connected").await;
    let source = browser.source().await;
    let connected = form.connected.lock().unwrap().clone();
    assert_eq!(connected.len(), 1, "one callback");
    assert!(source.contains(&connected[0].0), "the page shows the account id");
    browser.screenshot("connected").await;
    assert_eq!(support::solves(&sim).len(), 1);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_code_then_the_right_one_keeps_the_same_deadline() {
    let _one = ONE_AT_A_TIME.lock().await;
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let browser = Browser::start(true).await;
    sign_in(&browser, &form, "bob", "pw-b").await;
    browser.heading("2FA").await;
    let deadline_before = form.clock.now().as_millis() / 1000 + timer_seconds(&browser).await;

    // 40 seconds pass (on both clocks), then a wrong code.
    form.clock.advance(&sim, Duration::from_secs(40));
    submit_code(&browser, "000000").await;
    let alert = browser.text_of("alert").await;
    assert!(alert.contains("code was wrong"), "{alert}");
    browser.heading("2FA").await;
    let left = timer_seconds(&browser).await;
    let deadline_after = form.clock.now().as_millis() / 1000 + left;
    assert!(left <= 261, "the same deadline, not five fresh minutes: {left}");
    assert!(
        deadline_after.abs_diff(deadline_before) <= 2,
        "{deadline_before} vs {deadline_after}"
    );
    browser.screenshot("wrong-code").await;

    submit_code(&browser, "123456").await;
    browser.heading("Connected").await;
    assert_eq!(support::solves(&sim).len(), 2);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_of_two_checkpoints_in_one_intent() {
    let _one = ONE_AT_A_TIME.lock().await;
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let browser = Browser::start(true).await;
    sign_in(&browser, &form, "dave", "pw-d").await;
    browser.heading("2FA").await;
    submit_code(&browser, "111111").await;
    browser.heading("OTP").await;
    browser.screenshot("chain-otp").await;
    submit_code(&browser, "222222").await;
    browser.heading("Connected").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_in_the_app_is_held_by_the_server_and_the_page_moves_on() {
    let _one = ONE_AT_A_TIME.lock().await;
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let browser = Browser::start(true).await;
    approving_in_the_app(&browser, &form, &sim).await;
    browser.screenshot("waiting-in-app").await;
    // The browser sent no API request of its own: the server holds it.
    assert_eq!(support::solves(&sim).len(), 1);

    // The user approves (the simulator's 1.5 s pass), and the page moves on by itself.
    form.clock.advance(&sim, Duration::from_secs(2));
    browser.heading("Connected").await;
    assert_eq!(form.connected.lock().unwrap().len(), 1);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_while_the_page_is_open_moves_it_on_by_itself() {
    let _one = ONE_AT_A_TIME.lock().await;
    // The page's countdown runs on the browser's real time, so here the intent is short (8 s)
    // and every clock is real: the simulator's, the form's, the browser's.
    let ttl = Duration::from_secs(8);
    let sim = Simulator::builder()
        .api_key(support::API_KEY)
        .fixture(fixture())
        .intent_ttl(ttl)
        .start()
        .unwrap();
    let form = InProcessForm::start_with(&sim, |c| c.intent_ttl(ttl)).await;
    let browser = Browser::start(true).await;
    sign_in(&browser, &form, "bob", "pw-b").await;
    browser.heading("2FA").await;
    let left = timer_seconds(&browser).await;
    assert!(
        left <= 8,
        "the countdown starts from the intent's deadline: {left}"
    );

    // Nobody touches the page: at zero it asks the server, which agrees that the time is
    // up, and the page says so.
    browser.heading("Expired").await;
    browser.by_role("button", "Start again").await;
    assert!(
        sim.requests().len() == 1,
        "nothing but the connect was sent: {:?}",
        sim.requests().iter().map(|r| r.path.clone()).collect::<Vec<_>>()
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_sent_after_the_deadline_lands_on_expired() {
    let _one = ONE_AT_A_TIME.lock().await;
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let browser = Browser::start(true).await;
    sign_in(&browser, &form, "bob", "pw-b").await;
    browser.heading("2FA").await;

    // Five minutes pass while the page is open; the code comes too late.
    form.clock.advance(&sim, Duration::from_secs(301));
    submit_code(&browser, "123456").await;
    browser.heading("Expired").await;
    browser.by_role("button", "Start again").await;
    browser.screenshot("expired").await;
    assert_eq!(
        support::solves(&sim).len(),
        0,
        "nothing is sent after the deadline"
    );

    browser.click("Start again").await;
    browser.heading("Connect your Messenger account").await;

    // Only the server's clock runs out this time: the code is sent, the API answers 408,
    // and its word ends the intent.
    sign_in(&browser, &form, "bob", "pw-b").await;
    browser.heading("2FA").await;
    sim.advance(Duration::from_secs(301));
    submit_code(&browser, "123456").await;
    browser.heading("Expired").await;
    assert_eq!(support::solves(&sim).len(), 1, "the API said 408");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_code() {
    let _one = ONE_AT_A_TIME.lock().await;
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let browser = Browser::start(true).await;
    sign_in(&browser, &form, "bob", "pw-b").await;
    browser.heading("2FA").await;
    browser.click("Resend code").await;
    let status = browser.text_of("status").await;
    assert!(status.contains("sent again"), "{status}");
    browser.screenshot("resent").await;
    let resends = sim
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/checkpoint/resend"))
        .count();
    assert_eq!(resends, 1);
    submit_code(&browser, "123456").await;
    browser.heading("Connected").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn try_another_way() {
    let _one = ONE_AT_A_TIME.lock().await;
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let browser = Browser::start(true).await;
    sign_in(&browser, &form, "erin", "pw-e").await;
    browser.heading("2FA").await;
    browser.click("Try another way").await;
    browser.heading("OTP").await;
    submit_code(&browser, "777777").await;
    browser.heading("Connected").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_checkpoint_type_with_html_in_its_fields_is_shown_as_text() {
    let _one = ONE_AT_A_TIME.lock().await;
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let browser = Browser::start(true).await;
    sign_in(&browser, &form, "frank", "pw-f").await;
    browser.heading("FACE_SCAN").await;
    let text = browser
        .client
        .find(fantoccini::Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("<script>document.title='owned'</script><b>look up</b>"),
        "{text}"
    );
    assert!(text.contains("<img src=x onerror=alert(1)>"), "{text}");
    assert!(
        !browser.client.title().await.unwrap().contains("owned"),
        "the script did not run"
    );
    let bold = browser
        .client
        .find_all(fantoccini::Locator::Css("main b, main img"))
        .await
        .unwrap();
    assert!(bold.is_empty(), "no element was made of the API's text");
    browser.screenshot("unknown-checkpoint").await;
    submit_code(&browser, "424242").await;
    browser.heading("Connected").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_failure_is_shown_with_its_request_id_and_the_intent_stays_pending() {
    let _one = ONE_AT_A_TIME.lock().await;
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let browser = Browser::start(true).await;
    sign_in(&browser, &form, "gina", "pw-g").await;
    browser.heading("2FA").await;
    submit_code(&browser, "123456").await;
    let alert = browser.text_of("alert").await;
    let request_id = alert
        .split("Request id:")
        .nth(1)
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    assert_eq!(request_id.len(), 36, "a UUID-shaped request id in {alert:?}");
    browser.heading("2FA").await;
    browser.screenshot("api-error").await;
    // Still pending: the same code now goes through.
    submit_code(&browser, "123456").await;
    browser.heading("Connected").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_connection_with_javascript_off() {
    let _one = ONE_AT_A_TIME.lock().await;
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let browser = Browser::start(false).await;
    approving_in_the_app(&browser, &form, &sim).await;
    // Without JavaScript the page refreshes itself (a meta refresh) until the answer came.
    form.clock.advance(&sim, Duration::from_secs(2));
    browser.heading("Connected").await;
    browser.screenshot("connected-without-javascript").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_tab_with_javascript_lands_on_a_real_page() {
    let _one = ONE_AT_A_TIME.lock().await;
    let sim = simulator();
    let form = InProcessForm::start(&sim).await;
    let browser = Browser::start(true).await;
    sign_in(&browser, &form, "hank", "pw-h").await;
    browser.heading("2FA").await;

    // The first tab (the same browser's cookies) sends the code: the API takes 3 s.
    let first_tab = support::Http::new();
    for cookie in browser.client.get_all_cookies().await.unwrap() {
        first_tab.set_cookie(cookie.name(), cookie.value());
    }
    let sent = {
        let url = format!("{}/solve", form.url);
        tokio::spawn(async move { first_tab.post(&url, &[("code", "123456")]).await })
    };
    eventually(
        "the first tab's solve reached the API",
        Duration::from_secs(20),
        || async { support::solves(&sim).len() == 1 },
    )
    .await;

    // This tab sends it too: it is told the code is already being checked, then its page
    // moves on by itself to where the attempt is, a real page at a GET URL.
    submit_code(&browser, "123456").await;
    browser.heading("Connected").await;
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(url.path(), "/", "{url}");
    assert_eq!(sent.await.unwrap().status, 303);
    assert_eq!(support::solves(&sim).len(), 1, "one solve reached the API");
    assert_eq!(form.connected.lock().unwrap().len(), 1);
    browser.close().await;
}
