//! Several `postpress-web` processes sharing one Redis (a real `redis-server`), in front of
//! one simulator: any instance serves any request, a double submit sends one solve, an
//! instance killed mid-approval is taken over, Redis restarted mid-flow is survived. And the
//! binary itself: `--sim`, the first line, SIGTERM, no secret in its log or its store.
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
use auth_web::IntentStore;
use support::{Http, Redis, WebProcess, eventually};

fn simulator() -> Simulator {
    Simulator::builder()
        .api_key(support::API_KEY)
        .fixture(
            Fixture::demo()
                .account(
                    Account::new("slow", "pw-s").checkpoint(
                        Checkpoint::new("2FA", "123456").fault(
                            Fault::new()
                                .delay(Duration::from_millis(1500))
                                .on(FaultTarget::Solve),
                        ),
                    ),
                )
                .account(
                    Account::new("pat", "pw-p").checkpoint(
                        Checkpoint::new("2FA", "123456").fault(
                            Fault::new()
                                .delay(Duration::from_millis(1500))
                                .on(FaultTarget::Solve),
                        ),
                    ),
                )
                .account(
                    Account::new("holly", "pw-h")
                        .checkpoint(Checkpoint::in_app("2FA", Duration::from_millis(4000))),
                ),
        )
        .start()
        .unwrap()
}

fn instance(sim: &Simulator, store: &str) -> WebProcess {
    let base = sim.base_url();
    WebProcess::start(&[
        "--listen",
        "127.0.0.1:0",
        "--base-url",
        &base,
        "--api-key",
        support::API_KEY,
        "--store",
        store,
        "--timeout",
        "2",
        "--lease-ms",
        "2000",
        "--connects-per-minute",
        "1000",
    ])
}

async fn sign_in(http: &Http, web: &WebProcess, user: &str, password: &str) -> support::Page {
    http.get(&format!("{}/", web.url)).await;
    http.post_and_follow(
        &web.url,
        "/connect",
        &[("username", user), ("password", password)],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_credentials_to_one_instance_and_the_code_to_the_other() {
    let redis = Redis::start();
    let sim = simulator();
    let (a, b) = (instance(&sim, &redis.url()), instance(&sim, &redis.url()));
    let http = Http::new();
    let page = sign_in(&http, &a, "dave", "pw-d").await;
    assert_eq!(page.heading(), "2FA");
    // Redis lets the record go ten minutes after the intent's five (as the docs say).
    let id = http.cookie(auth_web::wire::SESSION_COOKIE).unwrap();
    let client = redis::Client::open(redis.url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("auth-web:record:{id}"))
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!((890_000..=900_000).contains(&ttl), "{ttl} ms");
    let page = http.get(&format!("{}/", b.url)).await;
    assert_eq!(
        page.heading(),
        "2FA",
        "the other instance resumes the same intent"
    );
    let page = http
        .post_and_follow(&b.url, "/solve", &[("code", "111111")])
        .await;
    assert_eq!(page.heading(), "OTP");
    let page = http
        .post_and_follow(&a.url, "/solve", &[("code", "222222")])
        .await;
    assert_eq!(page.heading(), "Connected");
    assert_eq!(sim.connected_accounts().len(), 1);
    assert!(page.body.contains(&sim.connected_accounts()[0].account_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_double_submit_across_two_instances_sends_one_solve() {
    let redis = Redis::start();
    let sim = simulator();
    let (a, b) = (instance(&sim, &redis.url()), instance(&sim, &redis.url()));
    let http = Http::new();
    assert_eq!(sign_in(&http, &a, "slow", "pw-s").await.heading(), "2FA");
    let to_a = format!("{}/solve", a.url);
    let (first, second) = tokio::join!(http.post(&to_a, &[("code", "123456")]), async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        http.post_and_follow(&b.url, "/solve", &[("code", "123456")])
            .await
    });
    assert_eq!(first.status, 303);
    assert_eq!(second.status, 200, "sent to the page, which says so");
    assert_eq!(second.heading(), "Already being checked");
    assert_eq!(support::solves(&sim).len(), 1, "one solve in the simulator's log");
    let page = http.get(&format!("{}/", b.url)).await;
    assert_eq!(page.heading(), "Connected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_killed_during_an_in_app_approval_is_taken_over() {
    let redis = Redis::start();
    let sim = simulator();
    let (mut a, b) = (instance(&sim, &redis.url()), instance(&sim, &redis.url()));
    let http = Http::new();
    assert_eq!(sign_in(&http, &a, "holly", "pw-h").await.heading(), "2FA");
    let page = http.post_and_follow(&a.url, "/approve", &[]).await;
    assert!(
        page.role("status")
            .unwrap_or_default()
            .contains("Waiting for your approval"),
        "{}",
        page.body
    );
    eventually(
        "the simulator holds A's request",
        Duration::from_secs(20),
        || async { sim.held_requests() == 1 },
    )
    .await;

    a.kill(); // SIGKILL: no goodbye, its lease stays in Redis until it runs out.

    let page_url = format!("{}/", b.url);
    eventually(
        "the other instance finishes the connection",
        Duration::from_secs(60),
        || {
            let http = http.clone();
            let page_url = page_url.clone();
            async move { http.get(&page_url).await.heading() == "Connected" }
        },
    )
    .await;
    let solves = support::solves(&sim);
    assert_eq!(solves.len(), 2, "sent again once, by the other instance");
    let keys: Vec<_> = solves
        .iter()
        .map(|r| r.header("idempotency-key").unwrap().to_owned())
        .collect();
    assert_eq!(keys[0], keys[1], "with the same Idempotency-Key");
    assert_eq!(sim.connected_accounts().len(), 1);
    assert!(b.log_text().contains("took over"), "{}", b.log_text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_killed_while_checking_a_code_asks_for_it_again_and_sends_it_with_the_same_key() {
    let redis = Redis::start();
    let sim = simulator();
    let (mut a, b) = (instance(&sim, &redis.url()), instance(&sim, &redis.url()));
    let http = Http::new();
    assert_eq!(sign_in(&http, &a, "pat", "pw-p").await.heading(), "2FA");
    let to_a = format!("{}/solve", a.url);
    let doomed = {
        let http = http.clone();
        tokio::spawn(async move { http.post(&to_a, &[("code", "123456")]).await })
    };
    eventually(
        "A's solve reached the simulator",
        Duration::from_secs(20),
        || async { support::solves(&sim).len() == 1 },
    )
    .await;
    a.kill();
    doomed.abort();

    // Once A's lease runs out, B asks for the code again (it never kept it)…
    let page_url = format!("{}/", b.url);
    eventually(
        "the other instance asks for the code again",
        Duration::from_secs(30),
        || {
            let http = http.clone();
            let page_url = page_url.clone();
            async move {
                http.get(&page_url)
                    .await
                    .role("alert")
                    .unwrap_or_default()
                    .contains("enter it again")
            }
        },
    )
    .await;
    // …and sends it with A's key.
    let page = http
        .post_and_follow(&b.url, "/solve", &[("code", "123456")])
        .await;
    assert_eq!(page.heading(), "Connected", "{}", page.body);
    let solves = support::solves(&sim);
    assert_eq!(solves.len(), 2);
    assert_eq!(
        solves[0].header("idempotency-key"),
        solves[1].header("idempotency-key")
    );
    assert_eq!(sim.connected_accounts().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_mid_flow() {
    let mut redis = Redis::start_persistent();
    let sim = simulator();
    let a = instance(&sim, &redis.url());
    let http = Http::new();
    assert_eq!(sign_in(&http, &a, "bob", "pw-b").await.heading(), "2FA");

    redis.stop();
    let page = http.get(&format!("{}/", a.url)).await;
    assert_eq!(page.status, 503);
    assert!(
        page.role("alert")
            .unwrap_or_default()
            .contains("cannot reach its storage"),
        "{}",
        page.body
    );
    let page = http
        .post(&format!("{}/solve", a.url), &[("code", "123456")])
        .await;
    assert_eq!(page.status, 503, "a clear page");
    assert!(support::solves(&sim).is_empty(), "nothing sent without a lease");

    redis.resume();
    let page_url = format!("{}/", a.url);
    eventually("the form reads its record again", Duration::from_secs(30), || {
        let http = http.clone();
        let page_url = page_url.clone();
        async move { http.get(&page_url).await.heading() == "2FA" }
    })
    .await;
    let page = http
        .post_and_follow(&a.url, "/solve", &[("code", "123456")])
        .await;
    assert_eq!(page.heading(), "Connected");
    let log = a.log_text();
    assert!(!log.contains("panicked"), "{log}");
    assert!(!log.contains("pw-b") && !log.contains("123456"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_any_log_line_page_or_store_dump() {
    let password = support::random_secret("pw-");
    let code = support::random_secret("code-");
    let api_key = support::random_secret("pp_test_");
    let sim = Simulator::builder()
        .api_key(api_key.as_str())
        .fixture(Fixture::new().account(
            Account::new("zoe", password.as_str()).checkpoint(Checkpoint::new("2FA", code.as_str())),
        ))
        .start()
        .unwrap();
    let redis = Redis::start();
    let dir = support::temp_dir("secrets");
    let sqlite = dir.join("records.sqlite3");
    let base = sim.base_url();
    let start = |store: &str| {
        WebProcess::start(&[
            "--listen",
            "127.0.0.1:0",
            "--base-url",
            &base,
            "--api-key",
            &api_key,
            "--store",
            store,
            "--log-level",
            "trace",
        ])
    };
    let sqlite_url = format!("sqlite:{}", sqlite.display());
    let instances = [start(&sqlite_url), start(&redis.url())];
    let mut seen = String::new();
    for web in &instances {
        let http = Http::new();
        let mut keep = |page: &support::Page| {
            seen.push_str(&page.body);
            for (name, value) in &page.headers {
                seen.push_str(&format!("{name}: {value}\n"));
            }
        };
        keep(&http.get(&format!("{}/", web.url)).await);
        keep(
            &http
                .post_and_follow(
                    &web.url,
                    "/connect",
                    &[("username", "zoe"), ("password", &format!("{password}!"))],
                )
                .await,
        );
        keep(
            &http
                .post_and_follow(
                    &web.url,
                    "/connect",
                    &[("username", "zoe"), ("password", &password)],
                )
                .await,
        );
        keep(
            &http
                .post_and_follow(&web.url, "/solve", &[("code", &format!("{code}!"))])
                .await,
        );
        let page = http.post_and_follow(&web.url, "/solve", &[("code", &code)]).await;
        assert_eq!(page.heading(), "Connected");
        keep(&page);
    }
    // What the stores kept, read raw: the SQLite file and its log, and every Redis record.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        seen.push_str(&String::from_utf8_lossy(&bytes));
    }
    let redis_store = auth_web::RedisStore::connect(&redis.url()).await.unwrap();
    let dump = redis_store.dump().await.unwrap();
    assert!(!dump.is_empty());
    seen.push_str(&dump.join("\n"));
    for web in &instances {
        let log = web.log_text();
        assert!(
            log.contains("DEBUG") && log.contains("sending"),
            "the log has every level: {log}"
        );
        seen.push_str(&log);
    }
    assert!(
        seen.contains("Connected") && seen.contains("\"stage\""),
        "everything was read"
    );
    for secret in [&password, &code, &api_key] {
        assert!(!seen.contains(secret.as_str()), "{secret} leaked");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_with_its_simulator_then_sigterm() {
    let dir = support::temp_dir("binary");
    let store = format!("sqlite:{}", dir.join("web.sqlite3").display());
    let mut web = WebProcess::start(&["--sim", "--listen", "127.0.0.1:0", "--store", &store]);
    assert!(web.url.starts_with("http://127.0.0.1:"), "{}", web.url);
    let http = Http::new();
    let page = sign_in(&http, &web, "bob", "pw-b").await;
    assert_eq!(page.heading(), "2FA");
    let page = http
        .post_and_follow(&web.url, "/solve", &[("code", "123456")])
        .await;
    assert_eq!(page.heading(), "Connected");
    let status = web.terminate();
    assert!(status.success(), "{status:?}");
    assert!(web.log_text().contains("stopped"));
    assert!(dir.join("web.sqlite3").exists(), "the default store is one file");
}
