//! Wire types: Microsoft's JSON exactly as published, nothing more.
//!
//! One set of types reads both shapes: the weekly download file (integer `changeNumber`,
//! `regionId`, `platform`, `networkFeatures`) and the Service Tag Discovery API /
//! `az network list-service-tags` output (string `changeNumber`, `id`, `name`, `type`,
//! `nextLink`). Unknown fields are ignored so that a field Microsoft adds next week does not
//! break loading; validation into domain types happens in [`super::validate`].

use serde::{Deserialize, Deserializer};
use std::fmt;

/// The whole document. Prefix texts borrow from the input where they can.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Document<'a> {
    /// Integer in the download file, string in the API.
    pub change_number: ChangeNumber,
    /// `Public`, `AzureGovernment`, `AzureChina`, `AzureGermany`.
    pub cloud: String,
    /// One entry per tag.
    #[serde(borrow)]
    pub values: Vec<Value<'a>>,
    /// API only: resource id of the list.
    #[serde(default)]
    pub id: Option<String>,
    /// API only: the cloud name in lower case.
    #[serde(default)]
    pub name: Option<String>,
    /// API only: `Microsoft.Network/serviceTags`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// API only: the next page, if any.
    #[serde(default)]
    pub next_link: Option<String>,
}

/// One tag.
#[derive(Debug, Deserialize)]
pub struct Value<'a> {
    /// The tag name, e.g. `Storage.WestEurope`.
    pub name: String,
    /// Equal to `name` in every published file.
    #[serde(default)]
    pub id: Option<String>,
    /// The tag's data.
    #[serde(borrow)]
    pub properties: Properties<'a>,
}

/// A tag's properties.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Properties<'a> {
    /// Per-tag change counter.
    #[serde(default)]
    pub change_number: Option<ChangeNumber>,
    /// Lower-case region code, `""` for cloud-wide tags.
    #[serde(default, deserialize_with = "null_as_default")]
    pub region: String,
    /// Download file only.
    #[serde(default)]
    pub region_id: Option<i64>,
    /// Download file only.
    #[serde(default)]
    pub platform: Option<String>,
    /// Owning service, `""` for `AzureCloud`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub system_service: String,
    /// IPv4 and IPv6 prefixes, mixed.
    #[serde(default, borrow, deserialize_with = "null_as_default")]
    pub address_prefixes: Vec<Text<'a>>,
    /// Download file only; `null` for about half the tags.
    #[serde(default)]
    pub network_features: Option<Vec<String>>,
    /// Newer API versions only.
    #[serde(default)]
    pub state: Option<String>,
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A change number as written: a JSON integer (download file) or a decimal string (API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeNumber {
    /// The value.
    pub value: u64,
    /// True when it was written as a string (the API's shape).
    pub was_string: bool,
}

impl<'de> Deserialize<'de> for ChangeNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = ChangeNumber;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a non-negative integer or a string holding one")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ChangeNumber, E> {
                Ok(ChangeNumber {
                    value: v,
                    was_string: false,
                })
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ChangeNumber, E> {
                u64::try_from(v)
                    .map(|value| ChangeNumber {
                        value,
                        was_string: false,
                    })
                    .map_err(|_| E::custom(format!("changeNumber must not be negative, got {v}")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ChangeNumber, E> {
                v.trim()
                    .parse()
                    .map(|value| ChangeNumber {
                        value,
                        was_string: true,
                    })
                    .map_err(|_| E::custom(format!("changeNumber `{v}` is not a whole number")))
            }
        }
        d.deserialize_any(V)
    }
}

/// A string that borrows from the input unless it holds escapes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text<'a>(pub std::borrow::Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(v.into()))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(v.to_string().into()))
            }
        }
        d.deserialize_str(V)
    }
}
