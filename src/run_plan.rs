//! A run: everything one Generate (or Variations) sends. Every prompt of a prompt matrix,
//! each split into as few requests as the model allows, the seeds, and a batch id shared
//! by all of them when the run makes a group. Planned whole before anything is queued,
//! so a run that cannot go out sends nothing.

use crate::api::request::{GenerationParams, GenerationRequest, MAX_SEED, n_max, split_count};
use crate::error::{Error, Result};
use crate::pricing::PriceBook;
use crate::prompt_template;

/// The requests of one run, validated.
#[derive(Clone, Debug)]
pub struct RunPlan {
    /// The requests, in the order they are queued.
    pub requests: Vec<GenerationRequest>,
    /// Images asked for in all.
    pub images: u32,
    /// Distinct prompts (more than one for a prompt matrix).
    pub prompts: usize,
}

/// A new id for a batch (sortable by time, like image ids).
pub fn new_batch_id() -> String {
    ulid::Ulid::new().to_string()
}

impl RunPlan {
    /// `count` images of every prompt `params.prompt` expands to, image `k` of each
    /// prompt with seed `seed + k` (the same seeds across a matrix, so only the words
    /// differ). A matrix run gets a batch id; a single prompt gets `batch` (usually none).
    pub fn new(params: &GenerationParams, count: u32, seed: Option<u32>, batch: Option<String>) -> Result<Self> {
        let variables = prompt_template::variables(&params.prompt)?;
        if let Some(name) = variables.first() {
            return Err(Error::invalid(format!(
                "the prompt still has {{{name}}}: fill it in, or write {{{{{name}}}}} for the braces themselves"
            )));
        }
        let prompts = prompt_template::expand(&params.prompt)?;
        let batch = match batch {
            Some(batch) => Some(batch),
            None if prompts.len() > 1 => Some(new_batch_id()),
            None => None,
        };
        let mut requests = Vec::new();
        for prompt in &prompts {
            let mut asked = 0u32;
            for n in split_count(count.max(1), n_max(&params.model)) {
                let request_params = GenerationParams {
                    prompt: prompt.clone(),
                    seed: seed.map(|seed| seed.saturating_add(asked).min(MAX_SEED)),
                    n,
                    ..params.clone()
                };
                asked += n;
                let mut request = GenerationRequest::try_from(&request_params)?;
                request.batch.clone_from(&batch);
                requests.push(request);
            }
        }
        Ok(Self {
            images: requests.iter().map(|r| r.params.n).sum(),
            prompts: prompts.len(),
            requests,
        })
    }

    /// Variations of an image: its settings with `count` new seeds from `seed`, always
    /// as one group.
    pub fn variations(params: &GenerationParams, count: u32, seed: u32) -> Result<Self> {
        Self::new(params, count, Some(seed), Some(new_batch_id()))
    }

    /// What the run would cost with `book`'s prices (`None`: the model has no price).
    pub fn estimate(&self, book: &PriceBook) -> Option<f64> {
        self.requests
            .iter()
            .map(|request| book.estimate(&request.params.model, request.params.n))
            .sum()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::api::request::Size;

    fn params(model: &str, prompt: &str) -> GenerationParams {
        GenerationParams {
            model: model.into(),
            prompt: prompt.into(),
            size: Size::new(1328, 1328),
            ..GenerationParams::default()
        }
    }

    #[test]
    fn a_two_by_two_matrix_is_four_requests_in_one_batch_with_the_same_seed() {
        let plan = RunPlan::new(
            &params("qwen-image-plus", "a {red|blue} lantern, {ink|photo}"),
            1,
            Some(7),
            None,
        )
        .unwrap();
        assert_eq!((plan.prompts, plan.images, plan.requests.len()), (4, 4, 4));
        let batch = plan.requests[0].batch.clone().unwrap();
        assert!(plan.requests.iter().all(|r| r.batch.as_deref() == Some(batch.as_str())));
        assert!(plan.requests.iter().all(|r| r.params.seed == Some(7)));
        assert_eq!(plan.requests[3].params.prompt, "a blue lantern, photo");
        assert!((plan.estimate(&PriceBook::built_in()).unwrap() - 0.8).abs() < 1e-9);
    }

    #[test]
    fn counts_use_n_where_the_model_allows_and_a_single_prompt_has_no_batch() {
        let plan = RunPlan::new(&params("qwen-image-2.0", "a lantern"), 8, Some(10), None).unwrap();
        let ns: Vec<_> = plan.requests.iter().map(|r| (r.params.n, r.params.seed)).collect();
        assert_eq!(ns, [(6, Some(10)), (2, Some(16))]);
        assert!(plan.requests.iter().all(|r| r.batch.is_none()));
        let variations = RunPlan::variations(&params("qwen-image-plus", "a lantern"), 3, 100).unwrap();
        assert_eq!(variations.requests.len(), 3, "qwen-image-plus makes one per request");
        assert!(variations.requests.iter().all(|r| r.batch.is_some()));
    }

    #[test]
    fn a_run_that_cannot_go_out_plans_nothing() {
        assert!(
            RunPlan::new(&params("qwen-image-plus", "a {subject}"), 1, None, None)
                .unwrap_err()
                .message
                .contains("{subject}")
        );
        assert!(RunPlan::new(&params("qwen-image-plus", "a {red|blue"), 1, None, None).is_err());
        let mut bad = params("qwen-image-plus", "a {red|blue} lantern");
        bad.size = Size::new(10, 10);
        assert!(RunPlan::new(&bad, 1, None, None).is_err());
    }
}
