//! `engineio_rs._core.StaticRules`: python-engineio's `static_files` rules,
//! resolved by the `engineio` crate's `StaticFiles` (which native mode
//! serves with), so `WSGIApp`, `ASGIApp` and native mode share one resolver.

use engineio::server::{StaticEntry, StaticFiles};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// python-engineio's `static_files` rules as the `engineio` crate's
/// `StaticFiles` (the one resolver of the project).
pub(crate) fn rules(option: Option<&Bound<'_, PyDict>>) -> PyResult<StaticFiles> {
    let mut files = StaticFiles::new();
    let Some(dict) = option else {
        return Ok(files);
    };
    for (url, rule) in dict.iter() {
        let url: String = url.extract()?;
        let entry = if let Ok(filename) = rule.extract::<String>() {
            StaticEntry::new(filename)
        } else {
            let rule = rule.cast::<PyDict>()?;
            let filename: String = rule
                .get_item("filename")?
                .ok_or_else(|| PyValueError::new_err(format!("static file {url:?}: no filename")))?
                .extract()?;
            match rule.get_item("content_type")? {
                Some(content_type) => {
                    StaticEntry::new(filename).content_type(content_type.extract::<String>()?)
                }
                None => StaticEntry::new(filename),
            }
        };
        files = files.entry(url, entry);
    }
    Ok(files)
}

/// Static file rules, built once from python-engineio's dict.
#[pyclass(module = "engineio_rs._core")]
#[derive(Debug)]
pub(crate) struct StaticRules {
    files: StaticFiles,
}

#[pymethods]
impl StaticRules {
    /// The rules of a `static_files` dict (or `None`: no rule).
    #[new]
    #[pyo3(signature = (static_files=None))]
    fn new(static_files: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        Ok(Self {
            files: rules(static_files)?,
        })
    }

    /// The file for a URL path (percent-encoded, as in the request):
    /// `(filename, content_type)`, or `None` when no rule matches or the
    /// path tries to leave its directory. Does not look at the disk.
    fn resolve(&self, url_path: &str) -> Option<(String, String)> {
        let found = self.files.resolve(url_path)?;
        Some((
            found.path.to_string_lossy().into_owned(),
            found.content_type,
        ))
    }
}
