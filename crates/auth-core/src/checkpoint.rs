//! Checkpoints the server asks the user to solve, and the solutions the user gives.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::secret::{CheckpointCode, SecretString, scrub};

/// A checkpoint the server asks the user to solve before the account is connected.
///
/// Every type of the contract is typed with its extra fields. A type this crate does not
/// know is kept by name (with all its fields) in [`Checkpoint::Other`] and is still
/// solvable by code: new types appear over time and must never be rejected.
///
/// Serializes to, and parses from, the wire form: `{"type":"2FA","source":"SMS"}`.
///
/// ```
/// use auth_core::{Checkpoint, TwoFactorSource};
/// let checkpoint: Checkpoint = serde_json::from_str(r#"{"type":"2FA","source":"SMS"}"#).unwrap();
/// assert_eq!(checkpoint, Checkpoint::TwoFactor { source: Some(TwoFactorSource::Sms) });
/// let unknown: Checkpoint = serde_json::from_str(r#"{"type":"FACE_SCAN","hint":"smile"}"#).unwrap();
/// assert_eq!(unknown.kind(), "FACE_SCAN");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "RawCheckpoint")]
#[non_exhaustive]
pub enum Checkpoint {
    /// `2FA`: enter the code sent by SMS or shown in an app, or approve in the app.
    TwoFactor {
        /// Where the code comes from, when the server says.
        source: Option<TwoFactorSource>,
    },
    /// `OTP`: enter a one-time password.
    Otp,
    /// `IN_APP_VALIDATION`: approve on a device, then solve with [`Solution::InAppValidation`].
    InAppValidation,
    /// `PHONE_REGISTER`: enter a phone number, written `(+33)612345678`.
    PhoneRegister,
    /// `CAPTCHA`: solve a captcha elsewhere.
    Captcha {
        /// The captcha's public key, when given.
        public_key: Option<String>,
        /// The captcha's data, when given.
        data: Option<String>,
    },
    /// `QRCODE`: scan a QR code.
    QrCode {
        /// The QR code's content, when given.
        qrcode: Option<String>,
    },
    /// `CONTRACT_CHOOSER`: pick a contract and solve with its id.
    ContractChooser {
        /// The contracts to choose from.
        options: Vec<ContractOption>,
    },
    /// A type this crate does not know, kept by name with every other field it came with.
    Other {
        /// The `type` the server sent.
        kind: String,
        /// Every other field of the checkpoint object, as sent.
        fields: Map<String, Value>,
    },
}

impl Checkpoint {
    /// The checkpoint's `type` on the wire: `2FA`, `OTP`, … or the unknown type's name.
    pub fn kind(&self) -> &str {
        match self {
            Self::TwoFactor { .. } => "2FA",
            Self::Otp => "OTP",
            Self::InAppValidation => "IN_APP_VALIDATION",
            Self::PhoneRegister => "PHONE_REGISTER",
            Self::Captcha { .. } => "CAPTCHA",
            Self::QrCode { .. } => "QRCODE",
            Self::ContractChooser { .. } => "CONTRACT_CHOOSER",
            Self::Other { kind, .. } => kind,
        }
    }

    /// What the user is asked to do, in a sentence.
    pub fn instructions(&self) -> String {
        match self {
            Self::TwoFactor {
                source: Some(TwoFactorSource::Sms),
            } => "enter the code sent by SMS, or approve in the app".to_owned(),
            Self::TwoFactor { .. } => "enter the two-factor code, or approve in the app".to_owned(),
            Self::Otp => "enter the one-time password".to_owned(),
            Self::InAppValidation => "approve the connection on your device".to_owned(),
            Self::PhoneRegister => "enter a phone number, written (+33)612345678".to_owned(),
            Self::Captcha { .. } => "solve the captcha, then enter its solution".to_owned(),
            Self::QrCode { .. } => "scan the QR code".to_owned(),
            Self::ContractChooser { options } => {
                let ids: Vec<String> = options.iter().map(|o| format!("{} ({})", o.id, o.name)).collect();
                format!("enter the id of a contract: {}", ids.join(", "))
            }
            Self::Other { kind, .. } => format!("solve the `{kind}` checkpoint with a code"),
        }
    }
}

impl Checkpoint {
    /// Takes every secret of `secrets` out of the text a server chose freely: an unknown
    /// type's name and fields, a code source this crate does not know (a server may echo
    /// the code just solved there). The data a checkpoint is solved with (a captcha's, a QR
    /// code's, the contracts' ids) is kept as sent: a chance match would break the solve.
    pub(crate) fn scrub(&mut self, secrets: &[&str]) {
        match self {
            Self::TwoFactor {
                source: Some(TwoFactorSource::Other(name)),
            } => scrub(name, secrets),
            Self::Other { kind, fields } => {
                scrub(kind, secrets);
                fields.values_mut().for_each(|value| scrub_value(value, secrets));
            }
            _ => {}
        }
    }
}

/// Scrubs every string inside a JSON value (its depth is bounded by the parser's limit).
fn scrub_value(value: &mut Value, secrets: &[&str]) {
    match value {
        Value::String(text) => scrub(text, secrets),
        Value::Array(items) => items.iter_mut().for_each(|item| scrub_value(item, secrets)),
        Value::Object(fields) => fields.values_mut().for_each(|item| scrub_value(item, secrets)),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TwoFactor { source: Some(source) } => write!(f, "2FA ({source})"),
            Self::Other { kind, .. } => write!(f, "{kind} (unknown type)"),
            other => f.write_str(other.kind()),
        }
    }
}

/// Where a `2FA` code comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TwoFactorSource {
    /// `SMS`: a code sent by text message.
    Sms,
    /// `APP`: an authenticator app, or approval in the Messenger app.
    App,
    /// Any other source, kept by name.
    Other(String),
}

impl TwoFactorSource {
    fn from_wire(name: &str) -> Self {
        match name {
            "SMS" => Self::Sms,
            "APP" => Self::App,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The name on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Sms => "SMS",
            Self::App => "APP",
            Self::Other(name) => name,
        }
    }
}

impl fmt::Display for TwoFactorSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One contract a `CONTRACT_CHOOSER` checkpoint offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractOption {
    /// The id to solve the checkpoint with.
    pub id: String,
    /// The contract's name, for the user.
    pub name: String,
}

/// The wire form of a checkpoint, as written: its `type` and whatever fields come with it.
#[derive(Serialize)]
struct RawCheckpoint {
    #[serde(rename = "type")]
    kind: String,
    #[serde(flatten)]
    fields: Map<String, Value>,
}

impl Checkpoint {
    /// Builds a checkpoint from its `type` and its other fields. Known types take the extra
    /// fields they define; a field of the wrong JSON type is read as absent rather than
    /// failing the whole answer and losing the intent.
    fn from_parts(kind: KindName, mut fields: Map<String, Value>) -> Self {
        let mut text = |name: &str| match fields.remove(name) {
            Some(Value::String(value)) => Some(value),
            _ => None,
        };
        match kind {
            KindName::TwoFactor => Self::TwoFactor {
                source: text("source").map(|s| TwoFactorSource::from_wire(&s)),
            },
            KindName::Otp => Self::Otp,
            KindName::InAppValidation => Self::InAppValidation,
            KindName::PhoneRegister => Self::PhoneRegister,
            KindName::Captcha => Self::Captcha {
                public_key: text("public_key"),
                data: text("data"),
            },
            KindName::QrCode => Self::QrCode {
                qrcode: text("qrcode"),
            },
            KindName::ContractChooser => Self::ContractChooser {
                options: fields
                    .remove("contract_options")
                    .and_then(|v| serde_json::from_value(v).ok())
                    .unwrap_or_default(),
            },
            KindName::Other(kind) => Self::Other { kind, fields },
        }
    }
}

/// A checkpoint's `type`, read without allocating for the known ones.
enum KindName {
    TwoFactor,
    Otp,
    InAppValidation,
    PhoneRegister,
    Captcha,
    QrCode,
    ContractChooser,
    Other(String),
}

impl<'de> Deserialize<'de> for KindName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KindVisitor;
        impl serde::de::Visitor<'_> for KindVisitor {
            type Value = KindName;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a checkpoint type")
            }
            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<KindName, E> {
                Ok(match name {
                    "2FA" => KindName::TwoFactor,
                    "OTP" => KindName::Otp,
                    "IN_APP_VALIDATION" => KindName::InAppValidation,
                    "PHONE_REGISTER" => KindName::PhoneRegister,
                    "CAPTCHA" => KindName::Captcha,
                    "QRCODE" => KindName::QrCode,
                    "CONTRACT_CHOOSER" => KindName::ContractChooser,
                    other => KindName::Other(other.to_owned()),
                })
            }
        }
        deserializer.deserialize_str(KindVisitor)
    }
}

/// A key of a checkpoint object: `type`, or any other kept by name.
enum Key {
    Type,
    Other(String),
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl serde::de::Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Key, E> {
                Ok(match name {
                    "type" => Key::Type,
                    other => Key::Other(other.to_owned()),
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for Checkpoint {
    /// Reads the wire form in one pass: the `type`, and every other field kept as JSON.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CheckpointVisitor;
        impl<'de> serde::de::Visitor<'de> for CheckpointVisitor {
            type Value = Checkpoint;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a checkpoint object with a `type`")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Checkpoint, A::Error> {
                let mut kind = None;
                let mut fields = Map::new();
                while let Some(key) = map.next_key::<Key>()? {
                    match key {
                        Key::Type if kind.is_none() => kind = Some(map.next_value::<KindName>()?),
                        Key::Type => return Err(serde::de::Error::duplicate_field("type")),
                        Key::Other(name) => {
                            fields.insert(name, map.next_value()?);
                        }
                    }
                }
                let kind = kind.ok_or_else(|| serde::de::Error::missing_field("type"))?;
                Ok(Checkpoint::from_parts(kind, fields))
            }
        }
        deserializer.deserialize_map(CheckpointVisitor)
    }
}

impl From<Checkpoint> for RawCheckpoint {
    fn from(checkpoint: Checkpoint) -> Self {
        let kind = checkpoint.kind().to_owned();
        let mut fields = Map::new();
        let mut put = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                fields.insert(name.to_owned(), Value::String(value));
            }
        };
        match checkpoint {
            Checkpoint::TwoFactor { source } => put("source", source.map(|s| s.as_str().to_owned())),
            Checkpoint::Captcha { public_key, data } => {
                put("public_key", public_key);
                put("data", data);
            }
            Checkpoint::QrCode { qrcode } => put("qrcode", qrcode),
            Checkpoint::ContractChooser { options } => {
                let options = options
                    .into_iter()
                    .map(|o| serde_json::json!({ "id": o.id, "name": o.name }))
                    .collect();
                fields.insert("contract_options".to_owned(), Value::Array(options));
            }
            Checkpoint::Other { fields: other, .. } => fields = other,
            Checkpoint::Otp | Checkpoint::InAppValidation | Checkpoint::PhoneRegister => {}
        }
        Self { kind, fields }
    }
}

/// The literal code that asks the server to wait for the user's approval in the app.
pub const IN_APP_VALIDATION_CODE: &str = "in_app_validation";

/// The literal code that asks for another checkpoint method (Unipile).
pub const TRY_ANOTHER_WAY_CODE: &str = "TRY_ANOTHER_WAY";

/// What the user answers to a checkpoint.
///
/// ```
/// use auth_core::Solution;
/// assert!(matches!(Solution::code("123456"), Solution::Code(_)));
/// // The contract's literal codes are recognised wherever they come from.
/// assert!(matches!(Solution::code("in_app_validation"), Solution::InAppValidation));
/// assert!(matches!(Solution::code("TRY_ANOTHER_WAY"), Solution::TryAnotherWay));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Solution {
    /// A code typed by the user: 2FA or OTP code, phone number, contract id, captcha answer…
    Code(CheckpointCode),
    /// Approval in the app (the code `in_app_validation`): the server answers only once the
    /// user approved, so the request may take the intent's whole remaining time.
    InAppValidation,
    /// Ask for another checkpoint method (the code `TRY_ANOTHER_WAY`); answered by a new checkpoint.
    TryAnotherWay,
}

impl Solution {
    /// A solution from what the user typed; the literals `in_app_validation` and
    /// `TRY_ANOTHER_WAY` (in any case) become [`Solution::InAppValidation`] and
    /// [`Solution::TryAnotherWay`].
    pub fn code(code: impl Into<String>) -> Self {
        let code = CheckpointCode::new(code);
        match literal_kind(code.expose_secret()) {
            Some(SolutionKind::InAppValidation) => Self::InAppValidation,
            Some(SolutionKind::TryAnotherWay) => Self::TryAnotherWay,
            _ => Self::Code(code),
        }
    }

    /// Which kind of solution this is, without the code.
    pub fn kind(&self) -> SolutionKind {
        match self {
            Self::Code(code) => literal_kind(code.expose_secret()).unwrap_or(SolutionKind::Code),
            Self::InAppValidation => SolutionKind::InAppValidation,
            Self::TryAnotherWay => SolutionKind::TryAnotherWay,
        }
    }

    /// The `code` field sent on the wire.
    /// A literal typed in another case is sent as the contract writes it.
    pub(crate) fn wire_code(&self) -> &str {
        match self {
            Self::Code(code) => match literal_kind(code.expose_secret()) {
                Some(SolutionKind::InAppValidation) => IN_APP_VALIDATION_CODE,
                Some(SolutionKind::TryAnotherWay) => TRY_ANOTHER_WAY_CODE,
                _ => code.expose_secret(),
            },
            Self::InAppValidation => IN_APP_VALIDATION_CODE,
            Self::TryAnotherWay => TRY_ANOTHER_WAY_CODE,
        }
    }

    /// The secret this solution carries, moved out without a copy: a typed code is one; the
    /// literals are not.
    pub(crate) fn into_secret(self) -> Option<SecretString> {
        match (self.kind(), self) {
            (SolutionKind::Code, Self::Code(code)) => Some(code.into_inner()),
            _ => None,
        }
    }

    /// The secret this solution carries, if any: a typed code is one; the literals are not.
    pub(crate) fn secret(&self) -> Option<&str> {
        match self {
            Self::Code(code) if self.kind() == SolutionKind::Code => Some(code.expose_secret()),
            _ => None,
        }
    }
}

/// The kind of solution one of the contract's literal codes stands for, ignoring ASCII case.
fn literal_kind(code: &str) -> Option<SolutionKind> {
    if code.eq_ignore_ascii_case(IN_APP_VALIDATION_CODE) {
        Some(SolutionKind::InAppValidation)
    } else if code.eq_ignore_ascii_case(TRY_ANOTHER_WAY_CODE) {
        Some(SolutionKind::TryAnotherWay)
    } else {
        None
    }
}

/// The kind of a [`Solution`], without its code: what a saved state may keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SolutionKind {
    /// A typed code.
    Code,
    /// Approval in the app.
    InAppValidation,
    /// A request for another checkpoint method.
    TryAnotherWay,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Checkpoint {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"))
    }

    #[test]
    fn every_checkpoint_type_of_the_contract_round_trips() {
        let cases = [
            r#"{"type":"2FA"}"#,
            r#"{"type":"2FA","source":"SMS"}"#,
            r#"{"type":"2FA","source":"APP"}"#,
            r#"{"type":"OTP"}"#,
            r#"{"type":"IN_APP_VALIDATION"}"#,
            r#"{"type":"PHONE_REGISTER"}"#,
            r#"{"type":"CAPTCHA","data":"d","public_key":"pk"}"#,
            r#"{"type":"QRCODE","qrcode":"qr-data"}"#,
            r#"{"contract_options":[{"id":"c1","name":"First"}],"type":"CONTRACT_CHOOSER"}"#,
            r#"{"hint":"smile","type":"FACE_SCAN"}"#,
        ];
        for json in cases {
            let checkpoint = parse(json);
            let back = serde_json::to_value(&checkpoint).unwrap_or_default();
            let original: Value = serde_json::from_str(json).unwrap_or_default();
            assert_eq!(back, original, "{json}");
        }
    }

    #[test]
    fn known_types_are_typed() {
        assert_eq!(
            parse(r#"{"type":"CAPTCHA","public_key":"pk","data":"d"}"#),
            Checkpoint::Captcha {
                public_key: Some("pk".into()),
                data: Some("d".into())
            }
        );
        assert_eq!(
            parse(r#"{"type":"CONTRACT_CHOOSER","contract_options":[{"id":"c1","name":"One"}]}"#),
            Checkpoint::ContractChooser {
                options: vec![ContractOption {
                    id: "c1".into(),
                    name: "One".into()
                }]
            }
        );
    }

    #[test]
    fn wrongly_typed_extra_fields_read_as_absent() {
        assert_eq!(
            parse(r#"{"type":"2FA","source":5}"#),
            Checkpoint::TwoFactor { source: None }
        );
        assert_eq!(
            parse(r#"{"type":"CONTRACT_CHOOSER","contract_options":"nope"}"#),
            Checkpoint::ContractChooser { options: vec![] }
        );
    }

    #[test]
    fn literal_codes_are_recognised_even_when_wrapped_by_hand() {
        let by_hand = Solution::Code(CheckpointCode::new(IN_APP_VALIDATION_CODE));
        assert_eq!(by_hand.kind(), SolutionKind::InAppValidation);
        assert!(by_hand.secret().is_none());
        assert!(matches!(
            Solution::code("IN_APP_Validation"),
            Solution::InAppValidation
        ));
        assert!(matches!(
            Solution::code("try_another_way"),
            Solution::TryAnotherWay
        ));
        let shouted = Solution::Code(CheckpointCode::new("IN_APP_VALIDATION"));
        assert_eq!(
            shouted.wire_code(),
            IN_APP_VALIDATION_CODE,
            "sent as the contract writes it"
        );
        assert_eq!(Solution::code("42").secret(), Some("42"));
    }
}
