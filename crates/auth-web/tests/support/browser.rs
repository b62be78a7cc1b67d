//! Headless Chromium (Debian's `chromium`) driven by Debian's `chromedriver` over WebDriver
//! with fantoccini. Elements are found as a screen reader finds them: by their computed ARIA
//! role and accessible name, asked of the browser itself (WebDriver's "Get Computed Role" and
//! "Get Computed Label").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests")]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use super::{free_port, require, temp_dir};

/// How long a page may take to show what a test waits for.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A chromedriver process and one Chromium session with a fresh profile.
pub struct Browser {
    pub client: Client,
    driver: Child,
    profile: PathBuf,
}

/// CSS selectors of the elements that may carry a role, to ask the browser about.
fn candidates(role: &str) -> &'static str {
    match role {
        "button" => "button, input[type=submit], [role=button]",
        "textbox" => {
            "input:not([type=hidden]):not([type=password]):not([type=submit]), textarea, [role=textbox]"
        }
        "heading" => "h1, h2, h3, h4, h5, h6, [role=heading]",
        "link" => "a[href], [role=link]",
        "alert" => "[role=alert]",
        "status" => "[role=status], output",
        "timer" => "[role=timer]",
        // A password field has no ARIA role; Chromium computes none for it.
        _ => "*",
    }
}

#[derive(Debug)]
struct Computed {
    element: String,
    what: &'static str,
}

impl WebDriverCompatibleCommand for Computed {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/element/{}/{}",
            session_id.unwrap_or_default(),
            self.element,
            self.what
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (axum::http::Method::GET, None)
    }
}

impl Browser {
    /// Starts chromedriver and a headless Chromium; `javascript: false` turns scripts off.
    pub async fn start(javascript: bool) -> Browser {
        let chromium = require("/usr/bin/chromium", "chromium");
        let chromedriver = require("/usr/bin/chromedriver", "chromium-driver");
        let port = free_port();
        let profile = temp_dir("chromium-profile");
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let mut options = json!({
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=800,900",
                format!("--user-data-dir={}", profile.display()),
            ],
        });
        if !javascript {
            options["prefs"] = json!({"profile.managed_default_content_settings.javascript": 2});
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), options);
        let webdriver = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&webdriver)
                .await
            {
                Ok(client) => break client,
                Err(error) => {
                    assert!(
                        start.elapsed() < Duration::from_secs(60),
                        "no WebDriver session: {error}"
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        Browser {
            client,
            driver,
            profile,
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    async fn computed(&self, element: &Element, what: &'static str) -> String {
        let answer = self
            .client
            .issue_cmd(Computed {
                element: element.element_id().to_string(),
                what,
            })
            .await
            .unwrap_or_default();
        answer.as_str().unwrap_or_default().to_owned()
    }

    /// The elements whose computed role is `role` (and accessible name `name`, if given).
    pub async fn all_by_role(&self, role: &str, name: Option<&str>) -> Vec<Element> {
        let mut found = Vec::new();
        let Ok(elements) = self.client.find_all(Locator::Css(candidates(role))).await else {
            return found;
        };
        for element in elements {
            if self.computed(&element, "computedrole").await != role {
                continue;
            }
            if let Some(name) = name
                && self.computed(&element, "computedlabel").await.trim() != name
            {
                continue;
            }
            found.push(element);
        }
        found
    }

    /// Waits for the element of `role` named `name`.
    pub async fn by_role(&self, role: &str, name: &str) -> Element {
        let start = Instant::now();
        loop {
            if let Some(element) = self.all_by_role(role, Some(name)).await.into_iter().next() {
                return element;
            }
            if start.elapsed() > PATIENCE {
                let source = self.client.source().await.unwrap_or_default();
                panic!("no {role} named {name:?} on the page:\n{source}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for an element of `role` and gives its text.
    pub async fn text_of(&self, role: &str) -> String {
        let start = Instant::now();
        loop {
            if let Some(element) = self.all_by_role(role, None).await.into_iter().next()
                && let Ok(text) = element.text().await
            {
                return text;
            }
            if start.elapsed() > PATIENCE {
                let source = self.client.source().await.unwrap_or_default();
                panic!("no {role} on the page:\n{source}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Whether an element of `role` is on the page now.
    pub async fn has_role(&self, role: &str) -> bool {
        !self.all_by_role(role, None).await.is_empty()
    }

    /// Waits for the page's heading to be `name`.
    pub async fn heading(&self, name: &str) {
        self.by_role("heading", name).await;
    }

    /// Types into the field labelled `label` (a textbox, or the password field, which has
    /// no role but its label).
    pub async fn fill(&self, label: &str, value: &str) {
        let start = Instant::now();
        loop {
            let fields = self
                .client
                .find_all(Locator::Css("input:not([type=hidden])"))
                .await
                .unwrap_or_default();
            for field in fields {
                if self.computed(&field, "computedlabel").await.trim() == label {
                    field.clear().await.unwrap();
                    field.send_keys(value).await.unwrap();
                    return;
                }
            }
            assert!(start.elapsed() < PATIENCE, "no field labelled {label:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn click(&self, button: &str) {
        self.by_role("button", button).await.click().await.unwrap();
    }

    /// Keeps a screenshot of the page as `NAME.png`: in `docs/screenshots/` when
    /// `AUTH_WEB_SCREENSHOTS=docs` (how the README's pictures are made), else in
    /// `target/screenshots/` (so a test run leaves the work tree as it was).
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let dir = if std::env::var("AUTH_WEB_SCREENSHOTS").as_deref() == Ok("docs") {
            root.join("docs/screenshots")
        } else {
            root.join("target/screenshots")
        };
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    pub async fn source(&self) -> String {
        self.client.source().await.unwrap_or_default()
    }

    pub async fn close(mut self) {
        let client = self.client.clone();
        let _ = client.close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
