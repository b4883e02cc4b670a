//! Small readings of JSON values shared by the tools that store JSON: an object from a
//! text, a seed, a value shown as text.

use serde_json::{Map, Value};

/// Longest value shown as one detail, in bytes.
const MAX_DETAIL_BYTES: usize = 4096;

/// The JSON object in `text`, or a note saying why there is none (`what` names the data,
/// e.g. "the InvokeAI metadata").
pub(super) fn object(text: &str, what: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(format!("{what} is JSON but not an object.")),
        Err(err) => Err(format!("{what} is not valid JSON ({err}).")),
    }
}

/// A seed: a whole number from 0 to `u64::MAX`, as a JSON number or a string of digits;
/// otherwise a note naming `what` and the value.
pub(super) fn seed(value: &Value, what: &str) -> Result<u64, String> {
    let parsed = match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.trim().parse::<u64>().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| format!("{what} is not a whole number from 0 to 2^64 − 1: {}.", shown(value)))
}

/// `value` as text for a detail: strings as they are, anything else as compact JSON;
/// cut at 4 KiB. `null` and empty strings give an empty text.
pub(super) fn shown(value: &Value) -> String {
    let text = match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    super::capped(text, MAX_DETAIL_BYTES)
}

/// The string at `key`, when it is one.
pub(super) fn str_at<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key).and_then(Value::as_str)
}

/// Adds the values of `map` named in `labels` (JSON key, label) to `reading`'s details.
pub(super) fn labelled_details(map: &Map<String, Value>, labels: &[(&str, &str)], reading: &mut super::ToolReading) {
    for (key, label) in labels {
        if let Some(value) = map.get(*key) {
            reading.detail(label, shown(value));
        }
    }
}

/// `W*H` from two whole numbers (JSON numbers or digit strings); empty otherwise.
pub(super) fn size(width: Option<&Value>, height: Option<&Value>) -> String {
    let whole = |value: Option<&Value>| match value? {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    };
    match (whole(width), whole(height)) {
        (Some(width), Some(height)) => format!("{width}*{height}"),
        _ => String::new(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn seeds_are_whole_numbers_up_to_u64_max() {
        assert_eq!(seed(&json!(42), "s"), Ok(42));
        assert_eq!(seed(&json!(u64::MAX), "s"), Ok(u64::MAX));
        assert_eq!(seed(&json!(" 1125899906842624 "), "s"), Ok(1_125_899_906_842_624));
        for bad in [json!(-1), json!(1.5), json!("abc"), json!(null), json!([1])] {
            let note = seed(&bad, "the seed").unwrap_err();
            assert!(note.starts_with("the seed is not a whole number"), "{note}");
        }
    }

    #[test]
    fn objects_and_notes() {
        assert!(object("{\"a\": 1}", "x").is_ok());
        assert_eq!(
            object("[1]", "the data").unwrap_err(),
            "the data is JSON but not an object."
        );
        assert!(
            object("{\"a\": ", "the data")
                .unwrap_err()
                .starts_with("the data is not valid JSON")
        );
    }

    #[test]
    fn sizes_and_shown_values() {
        assert_eq!(size(Some(&json!(512)), Some(&json!("768"))), "512*768");
        assert_eq!(size(Some(&json!(512)), None), "");
        assert_eq!(shown(&json!("text")), "text");
        assert_eq!(shown(&json!(7.5)), "7.5");
        assert_eq!(shown(&json!(null)), "");
        assert_eq!(shown(&json!({"a": [1]})), "{\"a\":[1]}");
    }
}
