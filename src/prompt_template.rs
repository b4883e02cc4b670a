//! Prompt templates: `{red|blue|golden}` alternatives that expand into every combination
//! (a prompt matrix), and `{subject}` variables filled in before sending.
//!
//! A brace group holding `|` is a set of alternatives (each trimmed; an empty one means
//! "nothing here"); a group without `|` is a variable, named by its trimmed text. A
//! brace is literal when doubled (`{{`, `}}`).

use crate::error::{Error, Result};

/// The most prompts one matrix may expand to.
pub const MAX_PROMPTS: usize = 100;

/// A piece of a parsed template.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Alternatives(Vec<String>),
    Variable(String),
}

fn parse(template: &str) -> Result<Vec<Piece>> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let mut group = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some('{') => {
                            return Err(Error::invalid(
                                "a { … } group cannot hold another one; write {{ for a brace",
                            ));
                        }
                        Some(c) => group.push(c),
                        None => return Err(Error::invalid("a { has no closing }; write {{ for a brace")),
                    }
                }
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                if group.contains('|') {
                    pieces.push(Piece::Alternatives(
                        group.split('|').map(|a| a.trim().to_owned()).collect(),
                    ));
                } else {
                    let name = group.trim();
                    if name.is_empty() {
                        return Err(Error::invalid("{} names no variable; write {{}} for braces"));
                    }
                    pieces.push(Piece::Variable(name.to_owned()));
                }
            }
            '}' => return Err(Error::invalid("a } has no opening {; write }} for a brace")),
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

/// How many prompts `template` expands to (1 without alternatives).
pub fn count(template: &str) -> Result<usize> {
    let mut total: usize = 1;
    for piece in parse(template)? {
        if let Piece::Alternatives(options) = piece {
            total = total.saturating_mul(options.len());
        }
    }
    Ok(total)
}

/// Every combination of the alternatives, the first group varying slowest, with doubled
/// braces made single; variables are left as written. A template without alternatives
/// comes back as typed (only its doubled braces made single). More than [`MAX_PROMPTS`]
/// is refused.
pub fn expand(template: &str) -> Result<Vec<String>> {
    let pieces = parse(template)?;
    if !pieces.iter().any(|piece| matches!(piece, Piece::Alternatives(_))) {
        // Not a matrix: the prompt goes as typed, doubled braces made single.
        let text = pieces
            .into_iter()
            .map(|piece| match piece {
                Piece::Text(text) => text,
                Piece::Variable(name) => format!("{{{name}}}"),
                Piece::Alternatives(_) => String::new(),
            })
            .collect();
        return Ok(vec![text]);
    }
    let total = count(template)?;
    if total > MAX_PROMPTS {
        return Err(Error::invalid(format!(
            "the prompt matrix makes {total} prompts; at most {MAX_PROMPTS} are sent at once"
        )));
    }
    let mut prompts = vec![String::new()];
    for piece in pieces {
        match piece {
            Piece::Text(text) => prompts.iter_mut().for_each(|p| p.push_str(&escape(&text))),
            Piece::Variable(name) => prompts.iter_mut().for_each(|p| {
                p.push('{');
                p.push_str(&name);
                p.push('}');
            }),
            Piece::Alternatives(options) => {
                prompts = prompts
                    .iter()
                    .flat_map(|p| options.iter().map(move |o| format!("{p}{}", escape(o))))
                    .collect();
            }
        }
    }
    Ok(prompts.into_iter().map(|p| tidy(&p)).collect())
}

/// The variables of `template`, each once, in order.
pub fn variables(template: &str) -> Result<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    for piece in parse(template)? {
        if let Piece::Variable(name) = piece
            && !names.contains(&name)
        {
            names.push(name);
        }
    }
    Ok(names)
}

/// `template` with each `{variable}` replaced by its value (`value_of` gives `None` for
/// one not filled in: it is left as written) and doubled braces made single.
/// Alternatives are kept as written, for [`expand`].
pub fn fill(template: &str, value_of: impl Fn(&str) -> Option<String>) -> Result<String> {
    let mut out = String::new();
    for piece in parse(template)? {
        match piece {
            Piece::Text(text) => out.push_str(&escape(&text)),
            Piece::Variable(name) => match value_of(&name) {
                Some(value) => out.push_str(&escape(&value)),
                None => {
                    out.push('{');
                    out.push_str(&name);
                    out.push('}');
                }
            },
            Piece::Alternatives(options) => {
                out.push('{');
                out.push_str(&options.iter().map(|o| escape(o)).collect::<Vec<_>>().join("|"));
                out.push('}');
            }
        }
    }
    Ok(out)
}

/// Literal braces written doubled again, so a filled or expanded text stays a template
/// that reads back the same.
fn escape(text: &str) -> String {
    text.replace('{', "{{").replace('}', "}}")
}

/// The final text: doubled braces made single, and the spaces and commas an empty
/// alternative leaves behind tidied (`a , b` -> `a, b`, `a  b` -> `a b`).
fn tidy(text: &str) -> String {
    let text = text.replace("{{", "{").replace("}}", "}");
    let words: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
    let joined = words.join(" ");
    let mut out = joined.replace(" ,", ",").replace(",,", ",");
    while out.ends_with(',') || out.ends_with(' ') {
        out.pop();
    }
    out.trim_start_matches([',', ' ']).to_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_matrix_expands_to_every_combination_in_order() {
        let prompts = expand("a {red|blue|golden} lantern, {ink wash|photo}").unwrap();
        assert_eq!(
            prompts,
            [
                "a red lantern, ink wash",
                "a red lantern, photo",
                "a blue lantern, ink wash",
                "a blue lantern, photo",
                "a golden lantern, ink wash",
                "a golden lantern, photo",
            ]
        );
        assert_eq!(count("a {red|blue|golden} lantern, {ink wash|photo}").unwrap(), 6);
        assert_eq!(expand("一只{猫|狗}").unwrap(), ["一只猫", "一只狗"]);
    }

    #[test]
    fn plain_text_variables_and_doubled_braces_pass_through() {
        assert_eq!(expand("a plain prompt").unwrap(), ["a plain prompt"]);
        assert_eq!(
            expand("a {subject} in {snow|rain}").unwrap(),
            ["a {subject} in snow", "a {subject} in rain"]
        );
        assert_eq!(
            expand("json {{\"a\": 1}}  ,").unwrap(),
            ["json {\"a\": 1}  ,"],
            "no matrix: as typed"
        );
        assert_eq!(expand("{{x}} {a|b}").unwrap(), ["{x} a", "{x} b"]);
        assert_eq!(expand("a cat{|, at night}").unwrap(), ["a cat", "a cat, at night"]);
    }

    #[test]
    fn broken_or_huge_matrices_are_refused_with_a_reason() {
        for bad in ["a {red|blue", "a red}", "{a|{b|c}}", "{}"] {
            assert!(expand(bad).is_err(), "{bad}");
        }
        let huge = "{a|b|c|d|e} {a|b|c|d|e} {a|b|c|d|e}";
        assert_eq!(count(huge).unwrap(), 125);
        assert!(expand(huge).unwrap_err().message.contains("125 prompts"));
    }

    #[test]
    fn variables_are_listed_once_and_filled() {
        let template = "{subject} at {time}, {subject} again, {red|blue}";
        assert_eq!(variables(template).unwrap(), ["subject", "time"]);
        let filled = fill(template, |name| (name == "subject").then(|| "a {fox}".to_owned())).unwrap();
        assert_eq!(filled, "a {{fox}} at {time}, a {{fox}} again, {red|blue}");
        assert_eq!(
            expand(&filled).unwrap(),
            [
                "a {fox} at {time}, a {fox} again, red",
                "a {fox} at {time}, a {fox} again, blue"
            ]
        );
        let plain = fill("a {subject} in snow", |_| Some("{fox}".to_owned())).unwrap();
        assert_eq!(
            expand(&plain).unwrap(),
            ["a {fox} in snow"],
            "a filled brace is sent single, matrix or not"
        );
    }
}
