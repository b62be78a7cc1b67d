//! Form bodies and cookies, read strictly: a body that is not UTF-8 once percent-decoded, a
//! field twice, a field too long or a body too large is refused, never "repaired".

use std::collections::HashMap;

/// Why a form body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FormError {
    #[error("the form is not application/x-www-form-urlencoded")]
    ContentType,
    #[error("the form is not valid UTF-8")]
    NotUtf8,
    #[error("the form has a malformed escape")]
    Malformed,
    #[error("the field {0} is given twice")]
    Duplicate(String),
    #[error("the field {0} is too long")]
    TooLong(&'static str),
    #[error("the form has too many fields")]
    TooManyFields,
}

/// A decoded form: each field once. Its values (a password, a code) are ours: they are
/// overwritten with zeros when the form is dropped.
#[derive(Debug, Default)]
pub(crate) struct Form {
    fields: HashMap<String, String>,
}

impl Drop for Form {
    fn drop(&mut self) {
        self.wipe();
    }
}

/// Overwrites a byte buffer's whole allocation (its spare capacity too) with zeros, in safe
/// code: the buffer is left holding `capacity` zeros, and [`std::hint::black_box`] keeps the
/// stores from being optimised away. Best effort, as the core's secrets do it: copies that
/// others made (hyper's read buffer) are not ours to wipe.
pub(crate) fn wipe_in_place(bytes: &mut Vec<u8>) {
    bytes.clear();
    bytes.resize(bytes.capacity(), 0);
    std::hint::black_box(&*bytes);
}

/// [`wipe_in_place`] for a string, which is left empty.
pub(crate) fn wipe_string(text: &mut String) {
    let mut bytes = std::mem::take(text).into_bytes();
    wipe_in_place(&mut bytes);
}

/// The most fields a form of ours has, with room to spare.
const MAX_FIELDS: usize = 8;

impl Form {
    /// Decodes `application/x-www-form-urlencoded` bytes.
    pub(crate) fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Self, FormError> {
        let media = content_type
            .and_then(|value| value.split(';').next())
            .map(|media| media.trim().to_ascii_lowercase());
        if media.as_deref() != Some("application/x-www-form-urlencoded") {
            return Err(FormError::ContentType);
        }
        // Built in place, so that an early return (a field too many, a bad escape) still
        // wipes the values decoded so far.
        let mut form = Self::default();
        for pair in body.split(|&b| b == b'&').filter(|pair| !pair.is_empty()) {
            if form.fields.len() >= MAX_FIELDS {
                return Err(FormError::TooManyFields);
            }
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(at) => (
                    pair.get(..at).unwrap_or_default(),
                    pair.get(at + 1..).unwrap_or_default(),
                ),
                None => (pair, &[][..]),
            };
            let name = decode(name)?;
            let mut value = decode(value)?;
            if form.fields.contains_key(&name) {
                wipe_string(&mut value);
                return Err(FormError::Duplicate(name));
            }
            form.fields.insert(name, value);
        }
        Ok(form)
    }

    /// Overwrites every value with zeros.
    pub(crate) fn wipe(&mut self) {
        for value in self.fields.values_mut() {
            wipe_string(value);
        }
    }

    /// A field's value (empty when absent), refused above `max` bytes.
    pub(crate) fn field(&self, name: &'static str, max: usize) -> Result<&str, FormError> {
        let value = self.fields.get(name).map_or("", String::as_str);
        if value.len() > max {
            return Err(FormError::TooLong(name));
        }
        Ok(value)
    }
}

/// Percent-decodes one name or value (`+` is a space), then requires UTF-8.
fn decode(raw: &[u8]) -> Result<String, FormError> {
    // Never grown past its first allocation (a value decodes to at most its own length), so
    // no copy is left behind by a reallocation.
    let mut bytes = Vec::with_capacity(raw.len());
    let mut iter = raw.iter();
    while let Some(&byte) = iter.next() {
        match byte {
            b'+' => bytes.push(b' '),
            b'%' => {
                let escaped = iter
                    .next()
                    .and_then(|&b| hex_value(b))
                    .zip(iter.next().and_then(|&b| hex_value(b)));
                let Some((high, low)) = escaped else {
                    wipe_in_place(&mut bytes);
                    return Err(FormError::Malformed);
                };
                bytes.push(high << 4 | low);
            }
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes).map_err(|error| {
        wipe_in_place(&mut error.into_bytes());
        FormError::NotUtf8
    })
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit).to_digit(16).and_then(|v| u8::try_from(v).ok())
}

/// The value of a cookie in a `Cookie` header; `None` if absent, given twice (a planted
/// cookie beside ours), or not ASCII. The header is read as bytes: other cookies of the
/// site (an embedding app's `city=Zürich`) may hold any bytes without hiding ours.
pub(crate) fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    let mut found = None;
    for header in headers.get_all(axum::http::header::COOKIE) {
        for pair in header.as_bytes().split(|&b| b == b';') {
            let mut parts = pair.trim_ascii().splitn(2, |&b| b == b'=');
            let (Some(key), Some(value)) = (parts.next(), parts.next()) else {
                continue;
            };
            if key == name.as_bytes() {
                if found.is_some() || !value.is_ascii() {
                    return None;
                }
                found = Some(std::str::from_utf8(value).ok()?);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

    #[test]
    fn decodes_escapes_and_plus() {
        let form = Form::parse(FORM, b"username=b%C3%A9b+o&password=p%26w%3D").unwrap_or_default();
        assert_eq!(form.field("username", 64).ok(), Some("béb o"));
        assert_eq!(form.field("password", 64).ok(), Some("p&w="));
        assert_eq!(form.field("missing", 64).ok(), Some(""));
    }

    #[test]
    fn refuses_what_it_cannot_read_exactly() {
        assert_eq!(Form::parse(FORM, b"code=%FF%FE").err(), Some(FormError::NotUtf8));
        assert_eq!(Form::parse(FORM, b"code=\xff").err(), Some(FormError::NotUtf8));
        assert_eq!(Form::parse(FORM, b"code=%G1").err(), Some(FormError::Malformed));
        assert_eq!(Form::parse(FORM, b"code=%4").err(), Some(FormError::Malformed));
        assert_eq!(
            Form::parse(FORM, b"code=1&code=2").err(),
            Some(FormError::Duplicate("code".into()))
        );
        assert_eq!(
            Form::parse(Some("text/plain"), b"code=1").err(),
            Some(FormError::ContentType)
        );
        assert_eq!(Form::parse(None, b"code=1").err(), Some(FormError::ContentType));
        let form = Form::parse(FORM, b"code=1234567").unwrap_or_default();
        assert_eq!(form.field("code", 6).err(), Some(FormError::TooLong("code")));
        let many = "a=1&b=1&c=1&d=1&e=1&f=1&g=1&h=1&i=1";
        assert_eq!(
            Form::parse(FORM, many.as_bytes()).err(),
            Some(FormError::TooManyFields)
        );
    }

    #[test]
    fn the_values_of_a_form_are_wiped() {
        let mut form = Form::parse(FORM, b"username=bob&password=hunter2").unwrap_or_default();
        assert_eq!(form.field("password", 64).ok(), Some("hunter2"));
        form.wipe();
        assert_eq!(form.field("password", 64).ok(), Some(""));
        assert_eq!(form.field("username", 64).ok(), Some(""));
        let mut buffer = Vec::with_capacity(32);
        buffer.extend_from_slice(b"password=hunter2");
        wipe_in_place(&mut buffer);
        assert_eq!(buffer.len(), 32, "the whole allocation");
        assert!(buffer.iter().all(|&b| b == 0));
        let mut text = "hunter2".to_owned();
        wipe_string(&mut text);
        assert!(text.is_empty());
    }

    #[test]
    fn cookies_planted_twice_are_refused() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            axum::http::header::COOKIE,
            "a=1; pp=x".parse().unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(cookie(&headers, "pp"), Some("x"));
        headers.append(
            axum::http::header::COOKIE,
            "pp=y".parse().unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(cookie(&headers, "pp"), None);
    }

    #[test]
    fn other_cookies_may_hold_any_bytes_but_ours_must_be_ascii() {
        let header = |bytes: &[u8]| {
            let mut headers = axum::http::HeaderMap::new();
            let value = axum::http::HeaderValue::from_bytes(bytes).unwrap_or_else(|_| unreachable!());
            headers.insert(axum::http::header::COOKIE, value);
            headers
        };
        let headers = header("city=Zürich; pp=x; note=\u{e9}t\u{e9}".as_bytes());
        assert_eq!(cookie(&headers, "pp"), Some("x"));
        assert_eq!(
            cookie(&header(b"a=\xff\xfe;pp=x"), "pp"),
            Some("x"),
            "not even UTF-8"
        );
        assert_eq!(cookie(&header("pp=Zürich".as_bytes()), "pp"), None);
        assert_eq!(cookie(&header(b"pp=\xff"), "pp"), None);
    }
}
