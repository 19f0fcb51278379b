//! Tests of loading, checking and editing configurations.

use super::edit::{ConfigEditor, NewCollection};
use super::starter::{render, Starter};
use super::*;

const IDENTITY: &str = "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";

fn minimal() -> String {
    format!(
        "[server]\norganisation = \"telco\"\nidentity = \"{IDENTITY}\"\n[organisations.telco]\n"
    )
}

fn problems(text: &str) -> Vec<String> {
    match Config::parse(text, Path::new("/x/accord.toml")) {
        Err(ConfigError::Invalid { problems, .. }) => problems,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn defaults_apply_and_paths_resolve_against_the_file() {
    let c = Config::parse(&minimal(), Path::new("/srv/accord/accord.toml")).unwrap();
    assert_eq!(c.server.listen.to_string(), DEFAULT_LISTEN);
    assert_eq!(c.server.max_content_length, DEFAULT_MAX_CONTENT_LENGTH);
    assert_eq!(c.server.page_size, DEFAULT_PAGE_SIZE);
    assert_eq!(
        c.server.max_requests_per_organisation,
        DEFAULT_MAX_REQUESTS_PER_ORGANISATION
    );
    assert_eq!(c.server.header_read_timeout().as_secs(), 30);
    assert_eq!(c.server.body_read_timeout().as_secs(), 60);
    assert_eq!(c.server.body_idle_timeout().as_secs(), 10);
    assert_eq!(c.store_path(), Path::new("/srv/accord/accord.sqlite"));
    assert_eq!(c.agreements_dir(), Path::new("/srv/accord/agreements"));
    assert!(c.tls_paths().is_none());
    let relative = Config::parse(&minimal(), Path::new("accord.toml")).unwrap();
    assert_eq!(relative.store_path(), Path::new("./accord.sqlite"));
}

#[test]
fn unknown_keys_and_bad_types_are_syntax_errors() {
    let text = format!(
        "{}max_content_lenght = 5\n",
        minimal().replace("[organisations.telco]\n", "")
    );
    let err = Config::parse(&text, Path::new("a.toml")).unwrap_err();
    assert!(matches!(err, ConfigError::Syntax { .. }), "{err}");
    assert!(err.to_string().contains("max_content_lenght"), "{err}");
    let err = Config::parse("[server]\nlisten = \"nowhere\"\n", Path::new("a.toml")).unwrap_err();
    assert!(matches!(err, ConfigError::Syntax { .. }), "{err}");
}

#[test]
fn every_broken_rule_is_named() {
    let text =
        "[server]\norganisation = \"nobody\"\nidentity = \"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\"\n\
         page_size = 20000\nbody_idle_timeout = 0\nheader_read_timeout = -1\n\
         max_requests_per_organisation = 0\nbody_read_timeout = 0.25\n\
         [organisations.telco.users.ana]\npassword = \"secret\"\n\
         [organisations.police.users.ana]\npassword = \"secret\"\n\
         [organisations.police.tokens.t]\nsha256 = \"ABC\"\n\
         [api_roots.taxii2]\ntitle = \"t\"\n\
         [api_roots.intel]\ntitle = \"t\"\n\
         [api_roots.intel.collections.a]\nid = \"not-a-uuid\"\ntitle = \"a\"\nread = [\"ghost\"]\n\
         [api_roots.intel.collections.b]\nid = \"91a7b528-80eb-42ed-a74d-c6fbd5a26116\"\ntitle = \"b\"\n\
         [api_roots.intel.collections.c]\nid = \"91a7b528-80eb-42ed-a74d-c6fbd5a26116\"\ntitle = \"c\"\n";
    let p = problems(text).join("\n");
    for needle in [
        "server.organisation: 'nobody'",
        "server.identity",
        "server.page_size",
        "server.body_idle_timeout: 0 is not a number of seconds",
        "server.header_read_timeout: -1 is not",
        "server.max_requests_per_organisation: must be at least 1",
        "organisations.telco.users.ana: the user name is already used in organisation 'police'",
        "organisations.telco.users.ana.password",
        "organisations.police.tokens.t.sha256",
        "api_roots.taxii2",
        "api_roots.intel.collections.a.id",
        "api_roots.intel.collections.a.read: organisation 'ghost'",
        "api_roots.intel.collections.c.id: the id 91a7b528-80eb-42ed-a74d-c6fbd5a26116 is already used",
    ] {
        assert!(p.contains(needle), "missing {needle:?} in\n{p}");
    }
    let _ = IDENTITY;
}

#[test]
fn starter_configuration_loads_and_has_the_admin() {
    let hash = crate::accounts::hash_password("starter password 1").unwrap();
    let text = render(&Starter::new("telco", &hash));
    let c = Config::parse(&text, Path::new("d/accord.toml")).unwrap();
    assert_eq!(c.user("admin").map(|(o, _)| o), Some("telco"));
    assert_eq!(c.default_api_root(), Some("intel"));
    let (root, alias, coll) = c
        .collection_by_id(&c.api_roots["intel"].collections["shared"].id)
        .unwrap();
    assert_eq!((root, alias), ("intel", "shared"));
    assert!(coll.can_read("telco") && coll.can_write("telco"));
    // The template spells out the defaults, and spells them right.
    let defaults = Config::parse(&minimal(), Path::new("d/accord.toml")).unwrap();
    let (s, d) = (&c.server, &defaults.server);
    assert_eq!(
        s.max_requests_per_organisation,
        d.max_requests_per_organisation
    );
    assert_eq!(s.header_read_timeout, d.header_read_timeout);
    assert_eq!(s.body_read_timeout, d.body_read_timeout);
    assert_eq!(s.body_idle_timeout, d.body_idle_timeout);
}

#[test]
fn the_example_in_the_repository_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/accord.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let c = Config::parse(&text, &path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.organisations.len(), 3);
    assert!(c.tls_paths().is_some());
    assert_eq!(c.default_api_root(), Some("intel"));
    let inbox = &c.api_roots["intel"].collections["inbox"];
    assert!(inbox.can_write("police") && !inbox.can_read("police"));
}

fn editor() -> ConfigEditor {
    let hash = crate::accounts::hash_password("starter password 1").unwrap();
    ConfigEditor::from_text(
        &render(&Starter::new("telco", &hash)),
        Path::new("accord.toml"),
    )
    .unwrap()
}

#[test]
fn edits_keep_comments_and_stay_valid() {
    let mut e = editor();
    e.add_organisation("police", Some("Cybercrime centre"))
        .unwrap();
    let hash = crate::accounts::hash_password("police password 1").unwrap();
    e.add_user("police", "ana", &hash).unwrap();
    e.add_token("police", "puller", &"ab".repeat(32), "2026-01-01T00:00:00Z")
        .unwrap();
    e.set_rights("intel", "shared", "police", Some(true), None)
        .unwrap();
    e.add_collection(
        "intel",
        "inbox",
        &NewCollection {
            id: "0b0b6f4e-4bd6-4d9c-8f57-5c0b2a1b7f10".into(),
            title: "Inbox".into(),
            description: None,
            read: vec!["telco".into()],
            write: vec!["telco".into(), "police".into()],
        },
    )
    .unwrap();
    let c = e.config().unwrap();
    assert!(c.api_roots["intel"].collections["shared"].can_read("police"));
    assert!(!c.api_roots["intel"].collections["shared"].can_write("police"));
    assert!(c.api_roots["intel"].collections["inbox"].can_write("police"));
    assert_eq!(c.user("ana").map(|(o, _)| o), Some("police"));
    assert!(e.text().contains("# A partner, for example:"));

    // Duplicates and unknown names are refused with a clear message.
    assert!(e
        .add_organisation("police", None)
        .unwrap_err()
        .to_string()
        .contains("already exists"));
    assert!(e
        .add_user("telco", "ana", &hash)
        .unwrap_err()
        .to_string()
        .contains("'police'"));
    assert!(e.add_user("ghost", "bob", &hash).is_err());
    assert!(e.add_organisation("bad name", None).is_err());
    assert!(e
        .set_rights("intel", "nope", "police", Some(true), None)
        .is_err());
    assert!(e
        .remove_organisation("telco")
        .unwrap_err()
        .to_string()
        .contains("own organisation"));

    // Removing an organisation removes its rights everywhere.
    e.remove_organisation("police").unwrap();
    let c = e.config().unwrap();
    assert!(!c.organisations.contains_key("police"));
    assert_eq!(c.api_roots["intel"].collections["inbox"].write, ["telco"]);
    assert!(c.user("ana").is_none());
}

#[test]
fn save_is_atomic_and_refuses_invalid_results() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accord.toml");
    let hash = crate::accounts::hash_password("starter password 1").unwrap();
    std::fs::write(&path, render(&Starter::new("telco", &hash))).unwrap();
    let mut e = ConfigEditor::open(&path).unwrap();
    e.add_token("telco", "ci", &"cd".repeat(32), "2026-01-01T00:00:00Z")
        .unwrap();
    e.save().unwrap();
    let c = Config::load(&path).unwrap();
    assert!(c.organisations["telco"].tokens.contains_key("ci"));
    // A second token with the same digest would make the file invalid: not written.
    let mut e = ConfigEditor::open(&path).unwrap();
    e.add_token("telco", "ci2", &"cd".repeat(32), "x").unwrap();
    assert!(matches!(e.save(), Err(ConfigError::Invalid { .. })));
    assert!(!Config::load(&path).unwrap().organisations["telco"]
        .tokens
        .contains_key("ci2"));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1);
}

#[test]
fn names_are_looked_up_by_id_or_alias_and_unknown_ones_list_the_known() {
    let text = format!(
        "{}[organisations.police]\n\
         [api_roots.intel]\ntitle = \"i\"\n\
         [api_roots.intel.collections.shared]\nid = \"91a7b528-80eb-42ed-a74d-c6fbd5a26116\"\ntitle = \"s\"\n\
         [api_roots.ops]\ntitle = \"o\"\n\
         [api_roots.ops.collections.shared]\nid = \"0b0b6f4e-4bd6-4d9c-8f57-5c0b2a1b7f10\"\ntitle = \"s\"\n",
        minimal()
    );
    let c = Config::parse(&text, Path::new("a.toml")).unwrap();
    let by_id = c
        .find_collection(None, "0b0b6f4e-4bd6-4d9c-8f57-5c0b2a1b7f10")
        .unwrap();
    assert_eq!((by_id.api_root, by_id.alias), ("ops", "shared"));
    assert_eq!(
        c.find_collection(None, "intel/shared").unwrap().id(),
        "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
    );
    assert_eq!(
        c.find_collection(Some("ops"), "shared").unwrap().id(),
        "0b0b6f4e-4bd6-4d9c-8f57-5c0b2a1b7f10"
    );
    let ambiguous = c.find_collection(None, "shared").unwrap_err();
    assert!(
        matches!(ambiguous, ConfigError::Ambiguous { .. }),
        "{ambiguous}"
    );
    let unknown = c.find_collection(None, "sharde").unwrap_err().to_string();
    assert!(
        unknown.contains("'sharde'")
            && unknown.contains("shared = 91a7b528-80eb-42ed-a74d-c6fbd5a26116 (API root intel)")
            && unknown.contains("shared = 0b0b6f4e-4bd6-4d9c-8f57-5c0b2a1b7f10 (API root ops)"),
        "{unknown}"
    );
    let org = c.find_organisation("polize").unwrap_err().to_string();
    assert!(
        org.contains("'polize'") && org.contains("police, telco"),
        "{org}"
    );
    // The editor refuses the same way, and changes nothing.
    let mut e = ConfigEditor::from_text(&text, Path::new("a.toml")).unwrap();
    let err = e
        .set_rights("intel", "sharde", "police", Some(true), None)
        .unwrap_err();
    assert!(matches!(err, ConfigError::Unknown { .. }), "{err}");
    let err = e.remove_user("nobody").unwrap_err().to_string();
    assert!(err.contains("'nobody'"), "{err}");
    assert_eq!(e.text(), text);
}

#[test]
fn telemetry_section_defaults_and_rules() {
    let c = Config::parse(&minimal(), Path::new("a.toml")).unwrap();
    assert!(c.telemetry.is_none());
    let text = format!("{}[telemetry]\nlisten = \"127.0.0.1:2055\"\n", minimal());
    let c = Config::parse(&text, Path::new("a.toml")).unwrap();
    let t = c.telemetry.expect("a [telemetry] section");
    assert_eq!(
        (t.window.as_str(), t.internal.len(), t.collection),
        (DEFAULT_TELEMETRY_WINDOW, 0, None)
    );
    let bad = format!(
        "{}[telemetry]\nlisten = \"127.0.0.1:2055\"\nwindow = \"500ms\"\ninternal = [\"10.0.0.0/8\", \"nowhere\"]\ncollection = \"nope\"\n",
        minimal()
    );
    let p = problems(&bad);
    assert!(p.iter().any(|m| m.starts_with("telemetry.window")), "{p:?}");
    assert!(
        p.iter()
            .any(|m| m.starts_with("telemetry.internal") && m.contains("nowhere")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|m| m.starts_with("telemetry.collection") && m.contains("nope")),
        "{p:?}"
    );
    let err = Config::parse(
        &format!(
            "{}[telemetry]\nlisten = \"127.0.0.1:2055\"\nport = 1\n",
            minimal()
        ),
        Path::new("a.toml"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("port"), "{err}");
}

#[test]
fn a_routed_collection_is_read_by_its_organisation_only_and_written_by_nobody() {
    let base = format!(
        "{}[organisations.cert]\ncountries = [\"MY\"]\n[organisations.police]\n\
         [api_roots.hub]\ntitle = \"Hub\"\ndefault = true\n",
        minimal()
    );
    let routed = |read: &str, write: &str| {
        format!(
            "{base}[api_roots.hub.collections.routed-cert]\nid = \"6f1c2b0e-1d2a-4e8b-9c3d-0a1b2c3d4e5f\"\n\
             title = \"Routed\"\nread = [{read}]\nwrite = [{write}]\nrouted_to = \"cert\"\n"
        )
    };
    let ok = Config::parse(&routed("\"cert\"", ""), Path::new("a.toml")).unwrap();
    let found = ok.routed_collections();
    assert_eq!(
        found.get("cert").map(|(root, c)| (*root, c.id.as_str())),
        Some(("hub", "6f1c2b0e-1d2a-4e8b-9c3d-0a1b2c3d4e5f"))
    );
    let p = problems(&routed("\"cert\", \"police\"", ""));
    assert!(p.iter().any(|m| m.contains("read by 'cert' only")), "{p:?}");
    let p = problems(&routed("", ""));
    assert!(p.iter().any(|m| m.contains("read by 'cert' only")), "{p:?}");
    let p = problems(&routed("\"cert\"", "\"telco\""));
    assert!(
        p.iter().any(|m| m.contains("written by routing only")),
        "{p:?}"
    );
    // The editor declares one that loads, and refuses a second.
    let mut e = ConfigEditor::from_text(&base, Path::new("a.toml")).unwrap();
    let id = e.add_routed_collection("hub", "cert").unwrap();
    let config = e.config().unwrap();
    assert_eq!(config.routed_collections()["cert"].1.id, id);
    assert_eq!(config.routed_collections()["cert"].1.read, ["cert"]);
    assert!(e.add_routed_collection("hub", "cert").is_err());
}
