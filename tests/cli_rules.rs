//! The rules on the command line: `jiqun policy …` and `jiqun calendar …`, run as the built
//! binary against a fresh data directory (SQLite default).
// A failed set-up step ends the test or benchmark run; that is what a panic is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

const HUNAN: &str = include_str!("../policies/hunan-2021.toml");

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// A temporary data directory, removed afterwards.
struct DataDir(PathBuf);

impl DataDir {
    fn new(name: &str) -> DataDir {
        let dir = std::env::temp_dir().join(format!(
            "jiqun-cli-rules-{name}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        DataDir(dir)
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn run(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_jiqun"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("JIQUN_DATA_DIR", &self.0)
            .env_remove("JIQUN_DATABASE_URL")
            .env_remove("JIQUN_CONFIG")
            .env_remove("JIQUN_AUDIT_KEY_FILE")
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn policy_check_passes_the_shipped_policy() {
    let d = DataDir::new("policy-ok");
    let r = d.run(&["policy", "check", "policies/hunan-2021.toml"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("优势产业集群"), "{}", r.stdout);
    assert!(
        r.stdout.contains("湘工信产业集聚〔2021〕82号"),
        "{}",
        r.stdout
    );
    // No database is needed to check a file.
    assert!(!d.0.join("jiqun.db").exists());
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn policy_check_names_file_line_and_key_path_of_each_error() {
    let d = DataDir::new("policy-broken");
    let broken = HUNAN
        .replacen("max_score = 25", "max_score = -25", 1)
        .replacen(
            "cycle_years = 3",
            "cycle_years = 3\nfrequency = \"often\"",
            1,
        )
        .replacen("due = \"07-31\"", "due = \"02-30\"", 1);
    let file = d.file("broken.toml", &broken);
    let r = d.run(&["policy", "check", path(&file)]);
    assert_eq!(r.code, 1, "{}", r.all());
    let out = r.all();
    let f = path(&file);
    let expect = [
        format!(
            "{f}:{} criteria[1].max_score：",
            line_of(&broken, "max_score = -25")
        ),
        format!(
            "{f}:{} recheck.frequency：",
            line_of(&broken, "frequency = ")
        ),
        format!(
            "{f}:{} reports.semi_annual.due：",
            line_of(&broken, "due = \"02-30\"")
        ),
    ];
    for e in &expect {
        assert!(out.contains(e.as_str()), "missing {e:?} in:\n{out}");
    }
    assert!(out.contains("3处错误"), "{out}");
}

#[test]
fn policy_check_reports_an_unreadable_file_in_chinese() {
    let d = DataDir::new("policy-missing");
    let r = d.run(&["policy", "check", "no/such/policy.toml"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("文件不存在"), "{}", r.stderr);
}

#[test]
fn policy_show_prints_a_policy_and_never_crashes() {
    let d = DataDir::new("policy-show");
    let r = d.run(&["policy", "show"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("湖南省先进制造业集群培育管理办法"));
    // The 2021 Measures ran to 2026-04-06: after that, the output says so.
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+8))
        .date();
    if today > time::macros::date!(2026 - 04 - 06) {
        assert!(r.stdout.contains("失效"), "{}", r.stdout);
        assert!(r.stdout.contains("2026年4月6日"), "{}", r.stdout);
    }
}

#[test]
fn calendar_answers_with_the_reason() {
    let d = DataDir::new("calendar-ask");
    let ask = |date: &str| d.run(&["calendar", "is-working-day", date]);

    let r = ask("2026-10-01");
    assert_eq!(
        (r.code, r.stdout.trim()),
        (0, "否（国庆节）"),
        "{}",
        r.all()
    );
    let r = ask("2026-02-14");
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.starts_with("是（调休上班"), "{}", r.stdout);
    assert_eq!(ask("2026-11-28").stdout.trim(), "否（周末）");
    assert_eq!(ask("2026-11-27").stdout.trim(), "是（工作日）");

    let r = ask("2027-01-04");
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("2027年"), "{}", r.stderr);

    let r = ask("2026-02-30");
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("日期“2026-02-30”无效"), "{}", r.stderr);
}

#[test]
fn calendar_counts_and_adds_working_days() {
    let d = DataDir::new("calendar-count");
    // 2026 国庆节 is 10-01..10-07 (Thu..Wed), with adjusted workdays Sun 09-20 and Sat 10-10.
    // 09-28 Mon, 09-29 Tue, 09-30 Wed, then 10-08 Thu, 10-09 Fri: 5 working days.
    let r = d.run(&["calendar", "working-days", "2026-09-28", "2026-10-09"]);
    assert_eq!((r.code, r.stdout.trim()), (0, "5"), "{}", r.all());
    // Adding Saturday 10-10 (调休上班) makes 6.
    let r = d.run(&["calendar", "working-days", "2026-09-28", "2026-10-10"]);
    assert_eq!(r.stdout.trim(), "6", "{}", r.all());
    // Sunday 09-20 is worked; Saturday 09-19 is not.
    let r = d.run(&["calendar", "working-days", "2026-09-19", "2026-09-20"]);
    assert_eq!(r.stdout.trim(), "1", "{}", r.all());

    let r = d.run(&["calendar", "add-working-days", "2026-09-30", "1"]);
    assert_eq!((r.code, r.stdout.trim()), (0, "2026-10-08"), "{}", r.all());
    let r = d.run(&["calendar", "add-working-days", "2026-09-30", "3"]);
    assert_eq!(r.stdout.trim(), "2026-10-10", "{}", r.all());

    let r = d.run(&["calendar", "add-working-days", "2026-09-30", "-3"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("工作日数"), "{}", r.stderr);
    let r = d.run(&["calendar", "working-days", "2026-10-09", "2026-09-28"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("晚于"), "{}", r.stderr);
}

const YEAR_2027: &str = r#"# 2027 (test data)
[2027]
holidays = [
  { name = "元旦", from = 2027-01-01, to = 2027-01-03 },
  { name = "国庆节", from = 2027-10-01, to = 2027-10-07 },
]
workdays = [
  { date = 2027-10-09, for = "国庆节" },
]
"#;

#[test]
fn an_imported_year_is_used_by_later_commands() {
    let d = DataDir::new("calendar-import");
    let file = d.file("2027.toml", YEAR_2027);

    let r = d.run(&["calendar", "import", path(&file)]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("已导入2027年"), "{}", r.stdout);

    let r = d.run(&["calendar", "is-working-day", "2027-01-04"]);
    assert_eq!(
        (r.code, r.stdout.trim()),
        (0, "是（工作日）"),
        "{}",
        r.all()
    );
    let r = d.run(&["calendar", "is-working-day", "2027-10-09"]);
    assert_eq!(r.stdout.trim(), "是（调休上班，补国庆节）", "{}", r.all());
    // 2026-12-31 Thu → 2027-01-04 Mon, across the year boundary.
    let r = d.run(&["calendar", "add-working-days", "2026-12-31", "1"]);
    assert_eq!(r.stdout.trim(), "2027-01-04", "{}", r.all());

    // Importing the same year again replaces the earlier import.
    let changed = YEAR_2027.replace("to = 2027-01-03", "to = 2027-01-04");
    let again = d.file("2027b.toml", &changed);
    let r = d.run(&["calendar", "import", path(&again)]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("替换了此前导入的版本"), "{}", r.stdout);
    let r = d.run(&["calendar", "is-working-day", "2027-01-04"]);
    assert_eq!(r.stdout.trim(), "否（元旦）", "{}", r.all());

    // Each import is one audit entry beside the installation of the two shipped policies (the
    // Measures and the national programme) at the first start, and the chain stays intact.
    let r = d.run(&["audit", "verify"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("共4条记录"), "{}", r.stdout);
}

#[test]
fn a_malformed_file_is_refused_and_nothing_is_stored() {
    let d = DataDir::new("calendar-malformed");
    // 2028-01-04 is a Tuesday, so it cannot be an adjusted working day.
    let bad = format!(
        "{YEAR_2027}\n[2028]\nholidays = []\nworkdays = [ {{ date = 2028-01-04, for = \"元旦\" }} ]\n"
    );
    let file = d.file("bad.toml", &bad);
    let r = d.run(&["calendar", "import", path(&file)]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("2028.workdays[0].date"), "{}", r.stderr);
    assert!(r.stderr.contains("未导入任何内容"), "{}", r.stderr);
    // The valid 2027 part of the file was not stored either.
    let r = d.run(&["calendar", "is-working-day", "2027-01-04"]);
    assert_eq!(r.code, 1, "{}", r.all());

    // Only the shipped policies' installation at the first start is on the trail.
    let r = d.run(&["audit", "verify"]);
    assert!(r.stdout.contains("共2条记录"), "{}", r.all());
}

#[test]
fn a_shipped_year_is_only_replaced_on_request() {
    let d = DataDir::new("calendar-builtin");
    let text = "[2026]\nholidays = [ { name = \"国庆节\", from = 2026-10-01, to = 2026-10-08 } ]\n";
    let file = d.file("2026.toml", text);
    let r = d.run(&["calendar", "import", path(&file)]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("--replace-builtin"), "{}", r.stderr);
    assert_eq!(
        d.run(&["calendar", "is-working-day", "2026-10-08"])
            .stdout
            .trim(),
        "是（工作日）"
    );

    let r = d.run(&["calendar", "import", "--replace-builtin", path(&file)]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("覆盖了系统内置安排"), "{}", r.stdout);
    assert_eq!(
        d.run(&["calendar", "is-working-day", "2026-10-08"])
            .stdout
            .trim(),
        "否（国庆节）"
    );
}
