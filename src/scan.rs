//! Reading the files of a run: each file is read once, the detector that
//! reads it is chosen by [`detector_for`] (by its name or path, else by its
//! content), and its references come back as a [`ScannedFile`]. A file that
//! cannot be read, or that its detector refuses, comes back as a
//! [`FileProblem`]. [`is_ignored`] is the `# digestpin:ignore` rule every job
//! applies. Nothing here resolves, edits or prints.

use std::path::{Path, PathBuf};

use crate::detect::{self, DetectError, FileKind, Finding, Site, rules::Rules};
use crate::edit::EditError;

/// A line carrying this marker is never touched.
pub const IGNORE_MARKER: &str = "digestpin:ignore";

/// Why a whole file was passed over.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read: {0}")]
    Read(#[source] std::io::Error),
    #[error("not UTF-8 text")]
    NotUtf8,
    #[error("not valid YAML, skipped: {0}")]
    Yaml(#[source] DetectError),
    #[error("not a valid Dockerfile, skipped: {0}")]
    Dockerfile(#[source] DetectError),
    #[error("left unchanged: {0}")]
    Edit(#[source] EditError),
    #[error("cannot write: {0}")]
    Write(#[source] std::io::Error),
    #[error("changed by another program since it was read; left as it is")]
    Changed,
    #[error("skipped: {0}")]
    Passed(#[source] crate::walk::Passed),
    #[error("skipped: neither a Kubernetes manifest nor a Compose file")]
    UnknownKind,
    /// A file whose name says nothing (named, or matched by an include
    /// glob) that is no YAML document we read and no Dockerfile.
    #[error("skipped: its name is not one we read, it holds no YAML document we know, and {0}")]
    Unrecognised(#[source] detect::dockerfile::NotDockerfile),
}

impl FileError {
    /// Where in the file a parse error is (line, column, 1-based) and the
    /// message without that place, for a record placed there.
    pub fn located(&self) -> Option<(usize, usize, String)> {
        let (what, error) = match self {
            FileError::Yaml(error) => ("not valid YAML, skipped", error),
            FileError::Dockerfile(error) => ("not a valid Dockerfile, skipped", error),
            _ => return None,
        };
        let (DetectError::Yaml {
            line,
            column,
            message,
        }
        | DetectError::Dockerfile {
            line,
            column,
            message,
        }) = error;
        Some((*line, *column, format!("{what}: {message}")))
    }

    /// Whether this problem fails the run (exit 2) rather than being a
    /// reported skip: a file that could not be read or is not text was not
    /// checked, so no gate may pass it.
    pub fn is_error(&self) -> bool {
        matches!(
            self,
            Self::Read(_) | Self::NotUtf8 | Self::Write(_) | Self::Changed | Self::Edit(_)
        )
    }
}

impl From<crate::edit::WriteError> for FileError {
    fn from(error: crate::edit::WriteError) -> Self {
        use crate::edit::WriteError;
        match error {
            WriteError::Read(e) => Self::Read(e),
            WriteError::Write(e) => Self::Write(e),
            WriteError::Changed => Self::Changed,
        }
    }
}

/// A file passed over, and why.
#[derive(Debug)]
pub struct FileProblem {
    pub path: PathBuf,
    pub error: FileError,
}

/// One file's references.
#[derive(Debug)]
pub struct ScannedFile {
    pub path: PathBuf,
    pub text: String,
    pub kind: FileKind,
    pub findings: Vec<Finding>,
}

/// The text of the line holding byte `at`.
pub fn line_of(text: &str, at: usize) -> &str {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    &text[start..end]
}

/// Whether the value at `site` is on a line carrying [`IGNORE_MARKER`]: no
/// job touches it.
pub fn is_ignored(text: &str, site: &Site) -> bool {
    line_of(text, site.span.start).contains(IGNORE_MARKER)
}

impl ScannedFile {
    /// [`is_ignored`] in this file.
    pub fn ignores(&self, site: &Site) -> bool {
        is_ignored(&self.text, site)
    }
}

/// Reads and scans `files`. Files that no detector reads are dropped
/// silently; unreadable or invalid ones become problems.
pub fn scan(files: &[PathBuf]) -> (Vec<ScannedFile>, Vec<FileProblem>) {
    scan_with_progress(files, &mut |_| {})
}

/// [`scan`], calling `progress` with the number of files read so far.
pub fn scan_with_progress(
    files: &[PathBuf],
    progress: &mut dyn FnMut(usize),
) -> (Vec<ScannedFile>, Vec<FileProblem>) {
    scan_with_rules(files, &Rules::default(), progress)
}

/// [`scan_with_progress`] with custom-resource rules. Files are read and
/// parsed on [`crate::parallel::cpu_threads`] threads; the results
/// keep the order of `files`.
pub fn scan_with_rules(
    files: &[PathBuf],
    rules: &Rules,
    progress: &mut dyn FnMut(usize),
) -> (Vec<ScannedFile>, Vec<FileProblem>) {
    let results = scan_each(files, rules, progress, &|file| file);
    let mut scanned = Vec::new();
    let mut problems = Vec::new();
    for (path, result) in files.iter().zip(results) {
        match result {
            Ok(Some(file)) => scanned.push(file),
            Ok(None) => {}
            Err(error) => problems.push(FileProblem {
                path: path.clone(),
                error,
            }),
        }
    }
    (scanned, problems)
}

/// Scans each of `files` and passes each scanned file to `map` on the
/// thread that scanned it, so a job that needs only a summary of a file
/// (`check`) never holds every file's text. One result per file, in the
/// order of `files`.
fn scan_each<T: Send>(
    files: &[PathBuf],
    rules: &Rules,
    progress: &mut dyn FnMut(usize),
    map: &(dyn Fn(ScannedFile) -> T + Sync),
) -> Vec<Result<Option<T>, FileError>> {
    let one = |path: &PathBuf| scan_file(path, rules).map(|file| file.map(map));
    let threads = crate::parallel::cpu_threads().min(files.len());
    if threads <= 1 {
        return files
            .iter()
            .enumerate()
            .map(|(done, path)| {
                progress(done + 1);
                one(path)
            })
            .collect();
    }
    let mut results: Vec<Option<Result<Option<T>, FileError>>> =
        std::iter::repeat_with(|| None).take(files.len()).collect();
    // Threads take files in chunks and send each chunk's results at once: a
    // message per file costs more in wake-ups than parsing a small file.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (sender, receiver) = std::sync::mpsc::channel::<Vec<(usize, _)>>();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let (sender, next, one) = (sender.clone(), &next, &one);
            scope.spawn(move || {
                loop {
                    let start = next.fetch_add(SCAN_CHUNK, std::sync::atomic::Ordering::Relaxed);
                    if start >= files.len() {
                        break;
                    }
                    let end = (start + SCAN_CHUNK).min(files.len());
                    let chunk = (start..end).map(|i| (i, one(&files[i]))).collect();
                    if sender.send(chunk).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let mut done = 0;
        for chunk in receiver {
            done += chunk.len();
            progress(done);
            for (i, result) in chunk {
                results[i] = Some(result);
            }
        }
    });
    results
        .into_iter()
        .map(|result| result.expect("every file is scanned once"))
        .collect()
}

/// How many files a scanning thread takes at a time.
const SCAN_CHUNK: usize = 32;

/// [`scan_with_progress`] over a walk's files, saying also which named paths
/// were passed over and which named files hold nothing we read.
pub fn scan_walked(
    walked: &crate::walk::Walked,
    rules: &Rules,
    progress: &mut dyn FnMut(usize),
) -> (Vec<ScannedFile>, Vec<FileProblem>) {
    scan_walked_with(walked, rules, progress, &|file| file)
}

/// [`scan_walked`], passing each scanned file through `map` on the thread
/// that scanned it (see [`scan_each`]).
pub fn scan_walked_with<T: Send>(
    walked: &crate::walk::Walked,
    rules: &Rules,
    progress: &mut dyn FnMut(usize),
    map: &(dyn Fn(ScannedFile) -> T + Sync),
) -> (Vec<T>, Vec<FileProblem>) {
    let mut problems: Vec<FileProblem> = walked
        .passed
        .iter()
        .map(|passed| FileProblem {
            path: passed.path.clone(),
            error: FileError::Passed(passed.reason.clone()),
        })
        .collect();
    let results = scan_each(&walked.files, rules, progress, map);
    let mut scanned = Vec::new();
    let mut more = Vec::new();
    let mut said: std::collections::HashSet<&Path> = std::collections::HashSet::new();
    for (path, result) in walked.files.iter().zip(results) {
        match result {
            Ok(Some(file)) => {
                scanned.push(file);
                said.insert(path);
            }
            Ok(None) => {}
            // A file an include glob pulled in by content alone that is
            // not ours, or not text, is passed over as a walked file of no
            // known kind is.
            Err(FileError::Unrecognised(_) | FileError::NotUtf8)
                if walked.included.binary_search(path).is_ok()
                    && walked.named.binary_search(path).is_err() =>
            {
                said.insert(path);
            }
            Err(error) => {
                said.insert(path);
                more.push(FileProblem {
                    path: path.clone(),
                    error,
                });
            }
        }
    }
    let unknown: Vec<FileProblem> = walked
        .named
        .iter()
        .filter(|path| !said.contains(path.as_path()) && !is_dockerfile(path))
        .map(|path| FileProblem {
            path: path.clone(),
            error: FileError::UnknownKind,
        })
        .collect();
    more.extend(unknown);
    problems.append(&mut more);
    (scanned, problems)
}

/// Which detector reads a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detector {
    /// `detect::dockerfile`: a Dockerfile by name.
    Dockerfile,
    /// A file whose name says nothing (named on the command line or matched
    /// by an include glob: `build/base.image`, `ci/Buildfile`): read as YAML
    /// when it holds a document we know, else as a Dockerfile when its first
    /// instruction is `FROM`, else passed over with the reason.
    Sniffed,
    /// `detect::helm`: the `values.yaml` beside a `Chart.yaml`.
    ChartValues,
    /// A values file kept apart from its chart: read as Kubernetes or
    /// Compose if it is one, else as Helm values.
    Values,
    /// Chosen by path (GitHub workflows, kustomizations), else by content
    /// (Kubernetes, Compose).
    Yaml,
}

/// The detector for the file at `path`, by its name and path; a
/// [`Detector::Sniffed`] file's content decides the rest.
pub fn detector_for(path: &Path) -> Detector {
    if is_dockerfile(path) {
        Detector::Dockerfile
    } else if !crate::walk::is_candidate(path) {
        Detector::Sniffed
    } else if detect::helm::is_chart_values(path) {
        Detector::ChartValues
    } else if detect::helm::is_values_name(path) {
        Detector::Values
    } else {
        Detector::Yaml
    }
}

/// Whether a file is a Dockerfile (`Dockerfile`, `Dockerfile.dev`,
/// `app.Dockerfile`, `Containerfile`, …): read by the Dockerfile parser.
fn is_dockerfile(path: &Path) -> bool {
    detect::dockerfile::is_dockerfile_name(path)
}

/// A YAML file's detector chosen by its path (workflows, kustomizations),
/// else Kubernetes or Compose by its content.
fn scan_yaml(
    path: &Path,
    text: &str,
    rules: &Rules,
) -> Result<Option<(FileKind, Vec<Finding>)>, DetectError> {
    if detect::is_workflow_path(path) {
        detect::scan_workflow(text)
    } else if detect::kustomize::is_kustomization_path(path) {
        detect::scan_kustomization(text)
    } else {
        detect::scan_with(text, rules)
    }
}

/// The references of the file at `path` holding `text`, read by the
/// detector [`detector_for`] picks. `Ok(None)`: no detector reads it.
pub fn findings(
    path: &Path,
    text: &str,
    rules: &Rules,
) -> Result<Option<(FileKind, Vec<Finding>)>, FileError> {
    let detector = detector_for(path);
    let json = crate::walk::is_json(path);
    // A JSON file is read only when it may hold a Kubernetes object
    // (`package.json` and friends are not ours).
    if detector != Detector::Dockerfile
        && json
        && !(text.contains("\"apiVersion\"") && text.contains("\"kind\""))
    {
        return Ok(None);
    }
    let scanned = match detector {
        Detector::Dockerfile => {
            let findings = detect::dockerfile::scan(text).map_err(FileError::Dockerfile)?;
            return Ok(Some((FileKind::Dockerfile, findings)));
        }
        Detector::Sniffed => return sniffed(path, text, rules).map(Some),
        Detector::ChartValues => detect::scan_values(text),
        Detector::Values => match scan_yaml(path, text, rules) {
            Ok(None) => detect::scan_values(text),
            other => other,
        },
        Detector::Yaml => scan_yaml(path, text, rules),
    };
    let found = scanned.map_err(FileError::Yaml)?;
    Ok(found.filter(|(kind, _)| !json || *kind == FileKind::Kubernetes))
}

/// The references of a file whose name says nothing: a YAML (or JSON)
/// document we know, else a Dockerfile whose first instruction is `FROM`.
/// A Dockerfile is never parsed as YAML by mistake: YAML comes first only
/// for documents a detector claims, which a Dockerfile never is.
fn sniffed(path: &Path, text: &str, rules: &Rules) -> Result<(FileKind, Vec<Finding>), FileError> {
    if let Ok(Some(found)) = scan_yaml(path, text, rules) {
        return Ok(found);
    }
    detect::dockerfile::sniff(text).map_err(FileError::Unrecognised)?;
    let findings = detect::dockerfile::scan(text).map_err(FileError::Dockerfile)?;
    Ok((FileKind::Dockerfile, findings))
}

/// Reads the file at `path` once and scans it.
pub fn scan_file(path: &Path, rules: &Rules) -> Result<Option<ScannedFile>, FileError> {
    let text = read_text(path)?;
    Ok(
        findings(path, &text, rules)?.map(|(kind, findings)| ScannedFile {
            path: path.to_path_buf(),
            text,
            kind,
            findings,
        }),
    )
}

/// The bytes read at once into each thread's buffer; a larger file goes on
/// into a buffer of its own.
const READ_BUFFER: usize = 64 * 1024;

/// A file's text, read into the thread's buffer and copied out at its exact
/// size: unlike [`std::fs::read`], no `statx` for the size first (a tenth of
/// a `check` over many small manifests went to it) and no allocation but
/// the text's own.
fn read_text(path: &Path) -> Result<String, FileError> {
    use std::io::Read as _;
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let mut file = std::fs::File::open(path).map_err(FileError::Read)?;
    BUFFER.with_borrow_mut(|buffer| {
        buffer.resize(READ_BUFFER, 0);
        let mut filled = 0;
        loop {
            match file.read(&mut buffer[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(error) => return Err(FileError::Read(error)),
            }
            if filled == buffer.len() {
                // Larger than the buffer: the rest is read as std does.
                let mut bytes = buffer[..filled].to_vec();
                file.read_to_end(&mut bytes).map_err(FileError::Read)?;
                return String::from_utf8(bytes).map_err(|_| FileError::NotUtf8);
            }
        }
        std::str::from_utf8(&buffer[..filled])
            .map(str::to_owned)
            .map_err(|_| FileError::NotUtf8)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_larger_than_the_read_buffer_are_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        for size in [
            0,
            1,
            READ_BUFFER - 1,
            READ_BUFFER,
            READ_BUFFER + 1,
            3 * READ_BUFFER + 7,
        ] {
            let path = dir.path().join(format!("f{size}"));
            let text: String = (0..size)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            std::fs::write(&path, &text).unwrap();
            assert_eq!(read_text(&path).unwrap(), text, "{size} bytes");
        }
        let path = dir.path().join("latin1");
        std::fs::write(&path, b"image: caf\xe9\n").unwrap();
        assert!(matches!(read_text(&path), Err(FileError::NotUtf8)));
        assert!(matches!(
            read_text(&dir.path().join("none")),
            Err(FileError::Read(_))
        ));
    }

    #[test]
    fn line_of_finds_the_line() {
        let text = "a: 1\nimage: x # digestpin:ignore\nb: 2";
        let at = text.find('x').unwrap();
        assert_eq!(line_of(text, at), "image: x # digestpin:ignore");
        assert_eq!(line_of(text, text.len()), "b: 2");
    }

    #[test]
    fn the_detector_is_picked_by_name_then_path_then_content() {
        let dir = tempfile::tempdir().unwrap();
        let chart = dir.path().join("chart");
        std::fs::create_dir(&chart).unwrap();
        std::fs::write(chart.join("Chart.yaml"), "name: c\n").unwrap();
        let cases = [
            (dir.path().join("Dockerfile"), Detector::Dockerfile),
            (dir.path().join("build.txt"), Detector::Sniffed),
            (dir.path().join("Buildfile"), Detector::Sniffed),
            (dir.path().join("build.yaml"), Detector::Yaml),
            (chart.join("values.yaml"), Detector::ChartValues),
            (dir.path().join("values-prod.yaml"), Detector::Values),
            (dir.path().join(".github/workflows/ci.yml"), Detector::Yaml),
            (dir.path().join("kustomization.yaml"), Detector::Yaml),
            (dir.path().join("Kustomization"), Detector::Yaml),
        ];
        let got: Vec<Detector> = cases.iter().map(|(path, _)| detector_for(path)).collect();
        let want: Vec<Detector> = cases.iter().map(|(_, want)| *want).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_file_whose_name_says_nothing_is_read_by_its_content() {
        let rules = Rules::default();
        let kind = |text: &str| match findings(Path::new("ci/Buildfile"), text, &rules) {
            Ok(found) => format!("{:?}", found.map(|(kind, found)| (kind, found.len()))),
            Err(error) => error.to_string(),
        };
        assert_eq!(
            kind("# syntax=docker/dockerfile:1\nARG V=1\nFROM alpine:3.20\nRUN true\n"),
            "Some((Dockerfile, 2))"
        );
        assert_eq!(
            kind("services:\n  web:\n    image: nginx:1.25\n"),
            "Some((Compose, 1))"
        );
        assert_eq!(
            kind("{\"services\": {\"web\": {\"image\": \"nginx:1.25\"}}}"),
            "Some((Compose, 1))"
        );
        assert_eq!(
            kind("ARG V=1\nRUN true\nFROM alpine\n"),
            "skipped: its name is not one we read, it holds no YAML document we know, \
             and line 2: its first instruction after the build arguments is RUN, not FROM"
        );
        assert_eq!(
            kind("just some notes\n"),
            "skipped: its name is not one we read, it holds no YAML document we know, \
             and line 1: `just` is not a Dockerfile instruction"
        );
        assert_eq!(
            kind("name: x\n"),
            "skipped: its name is not one we read, it holds no YAML document we know, \
             and line 1: `name:` is not a Dockerfile instruction"
        );
    }

    #[test]
    fn a_json_file_is_read_only_for_a_kubernetes_object() {
        let rules = Rules::default();
        let pod = r#"{"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{"name": "a", "image": "nginx:1.25"}]}}"#;
        let compose = r#"{"services": {"a": {"image": "nginx:1.25"}}}"#;
        let kinds = |text: &str| {
            findings(Path::new("x.json"), text, &rules)
                .unwrap()
                .map(|(kind, found)| (kind, found.len()))
        };
        assert_eq!(kinds(pod), Some((FileKind::Kubernetes, 1)));
        assert_eq!(kinds(compose), None);
        assert_eq!(
            findings(Path::new("x.yaml"), compose, &rules)
                .unwrap()
                .map(|(kind, found)| (kind, found.len())),
            Some((FileKind::Compose, 1))
        );
    }
}
