//! The price book: a list price per model and image in CNY and USD, the currency shown,
//! and an optional monthly budget. The built-in book is `assets/prices.json`; the user's
//! edits live in `prices.json` in the data folder, and both the window and the command
//! line read it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::library::{Durability, write_atomically};

/// The name of the user's price book in the data folder.
pub const PRICE_FILE: &str = "prices.json";

/// The currency amounts are shown and budgeted in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Currency {
    /// Renminbi, the mainland China list prices.
    #[default]
    #[serde(rename = "CNY")]
    Cny,
    /// US dollars, the international list prices.
    #[serde(rename = "USD")]
    Usd,
}

impl Currency {
    /// The sign written before an amount.
    pub fn sign(self) -> &'static str {
        match self {
            Self::Cny => "¥",
            Self::Usd => "$",
        }
    }

    /// The ISO code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Cny => "CNY",
            Self::Usd => "USD",
        }
    }
}

/// One model's price per image, in each currency (`None`: not known).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelPrice {
    /// Per image in CNY.
    #[serde(rename = "CNY", default, skip_serializing_if = "Option::is_none")]
    pub cny: Option<f64>,
    /// Per image in USD.
    #[serde(rename = "USD", default, skip_serializing_if = "Option::is_none")]
    pub usd: Option<f64>,
}

impl ModelPrice {
    /// The price in `currency`, if known.
    pub fn get(&self, currency: Currency) -> Option<f64> {
        match currency {
            Currency::Cny => self.cny,
            Currency::Usd => self.usd,
        }
    }

    /// Sets the price in `currency` (`None` forgets it).
    pub fn set(&mut self, currency: Currency, price: Option<f64>) {
        match currency {
            Currency::Cny => self.cny = price,
            Currency::Usd => self.usd = price,
        }
    }
}

/// Prices, the currency in use and the monthly budget.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PriceBook {
    /// The currency amounts are shown in.
    #[serde(default)]
    pub currency: Currency,
    /// Warn before a job that would take this month's spend over this amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_budget: Option<f64>,
    /// Price per model name; a name ending in `*` covers every model starting with the rest.
    #[serde(default)]
    pub prices: BTreeMap<String, ModelPrice>,
}

impl PriceBook {
    /// The book Pictor ships with.
    pub fn built_in() -> Self {
        serde_json::from_str(include_str!("../assets/prices.json")).unwrap_or_else(|err| {
            tracing::error!(%err, "the built-in price list is unreadable");
            Self::default()
        })
    }

    /// Where the user's book is kept.
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join(PRICE_FILE)
    }

    /// The user's book (the built-in one when there is none), with every built-in model
    /// the user's file does not name added. An unreadable file is an error and is left
    /// as it is: nothing is overwritten until the user saves.
    pub fn load(data_dir: &Path) -> Result<Self> {
        let path = Self::path(data_dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Self::built_in()),
            Err(err) => return Err(Error::storage(format!("could not read {}", path.display()), err)),
        };
        let mut book: Self = serde_json::from_str(&text).map_err(|err| {
            Error::invalid(format!(
                "{} is not a readable price list ({err}); fix or delete it",
                path.display()
            ))
        })?;
        book.check()?;
        for (model, price) in Self::built_in().prices {
            book.prices.entry(model).or_insert(price);
        }
        Ok(book)
    }

    /// Writes the book to the data folder (atomically).
    pub fn save(&self, data_dir: &Path) -> Result<()> {
        self.check()?;
        let json =
            serde_json::to_vec_pretty(self).map_err(|err| Error::storage("could not encode the price list", err))?;
        write_atomically(&Self::path(data_dir), &json, Durability::Durable)
    }

    /// Refuses negative, infinite or NaN prices and budgets.
    pub fn check(&self) -> Result<()> {
        let bad = |value: f64| !value.is_finite() || value < 0.0;
        if self.monthly_budget.is_some_and(bad) {
            return Err(Error::invalid("the monthly budget must be a positive amount"));
        }
        for (model, price) in &self.prices {
            if price.cny.is_some_and(bad) || price.usd.is_some_and(bad) {
                return Err(Error::invalid(format!(
                    "the price of {model} must be a positive amount"
                )));
            }
        }
        Ok(())
    }

    /// The price of one image of `model` in the book's currency: its own entry, else the
    /// longest `prefix*` entry that covers it.
    pub fn unit_price(&self, model: &str) -> Option<f64> {
        let model = model.trim();
        if let Some(price) = self.prices.get(model) {
            return price.get(self.currency);
        }
        self.prices
            .iter()
            .filter_map(|(pattern, price)| Some((pattern.strip_suffix('*')?, price)))
            .filter(|(prefix, _)| model.starts_with(prefix))
            .max_by_key(|(prefix, _)| prefix.len())
            .and_then(|(_, price)| price.get(self.currency))
    }

    /// What `images` images of `model` cost, if its price is known.
    pub fn estimate(&self, model: &str, images: u32) -> Option<f64> {
        self.unit_price(model).map(|price| price * f64::from(images))
    }

    /// An amount with the currency sign, to the cent: "¥0.60".
    pub fn format(&self, amount: f64) -> String {
        format!("{}{amount:.2}", self.currency.sign())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_book_reads_and_prices_every_catalogued_model() {
        let book = PriceBook::built_in();
        assert_eq!(book.currency, Currency::Cny);
        for spec in &crate::api::catalogue::Catalogue::get().families {
            for model in spec.named_models() {
                assert!(book.unit_price(model).is_some(), "{model} has no price");
            }
        }
        assert_eq!(book.format(book.estimate("qwen-image-plus", 3).unwrap()), "¥0.60");
    }

    #[test]
    fn a_wildcard_covers_a_family_and_the_longest_one_wins() {
        let mut book = PriceBook::default();
        book.prices.insert(
            "wan*".into(),
            ModelPrice {
                cny: Some(1.0),
                usd: None,
            },
        );
        book.prices.insert(
            "wan2.6-t2i*".into(),
            ModelPrice {
                cny: Some(0.2),
                usd: None,
            },
        );
        book.prices.insert(
            "wan2.6-t2i-x".into(),
            ModelPrice {
                cny: Some(0.3),
                usd: None,
            },
        );
        assert_eq!(book.unit_price("wan2.6-t2i-x"), Some(0.3));
        assert_eq!(book.unit_price("wan2.6-t2i-y"), Some(0.2));
        assert_eq!(book.unit_price("wan2.2"), Some(1.0));
        assert_eq!(book.unit_price("qwen-image"), None);
        book.currency = Currency::Usd;
        assert_eq!(book.unit_price("wan2.6-t2i-y"), None, "no USD price given");
    }

    #[test]
    fn the_users_book_is_saved_loaded_and_completed_and_a_bad_file_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let mut book = PriceBook::built_in();
        book.currency = Currency::Usd;
        book.monthly_budget = Some(20.0);
        book.prices.remove("qwen-image");
        book.prices.insert(
            "qwen-image-plus".into(),
            ModelPrice {
                cny: Some(0.1),
                usd: Some(0.02),
            },
        );
        book.save(dir.path()).unwrap();
        let loaded = PriceBook::load(dir.path()).unwrap();
        assert_eq!(loaded.currency, Currency::Usd);
        assert_eq!(loaded.monthly_budget, Some(20.0));
        assert_eq!(loaded.unit_price("qwen-image-plus"), Some(0.02));
        assert!(
            loaded.unit_price("qwen-image").is_some(),
            "a model the file lacks comes from the built-in book"
        );

        std::fs::write(PriceBook::path(dir.path()), b"{ not json").unwrap();
        let err = PriceBook::load(dir.path()).unwrap_err();
        assert!(err.message.contains("not a readable price list"), "{}", err.message);
        assert_eq!(std::fs::read(PriceBook::path(dir.path())).unwrap(), b"{ not json");

        book.prices.insert(
            "bad".into(),
            ModelPrice {
                cny: Some(-1.0),
                usd: None,
            },
        );
        assert!(book.save(dir.path()).is_err());
    }
}
