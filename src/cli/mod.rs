//! The `cloudsso` command line client: `configure` writes a profile, `sso <operation>` and
//! `ram <operation>` call a running server's management API with signed requests; `login`,
//! `credentials`, `profiles populate` and `logout` sign a user in through the portal
//! (`signin`).
//!
//! The operations are not written here: each is a row of the catalog (`api::catalog::operations()`), turned
//! into a subcommand (`ListUsers` -> `list-users`, `DirectoryId` -> `--directory-id`).
//! Must not know about the store or the server's internals: it speaks only the wire protocol.

pub mod client;
pub mod config;
pub mod formats;
pub mod portal;
pub mod profiles;
pub mod signin;
pub mod table;
pub mod tokens;

use crate::api::catalog::{Operation, Product, operations};
use clap::{Arg, ArgAction, ArgMatches, Command};
use config::{ConfigFile, DEFAULT_PROFILE, Profile};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// The subcommand naming a product's operations.
pub fn product_command_name(product: Product) -> &'static str {
    match product {
        Product::CloudSso => "sso",
        Product::Ram => "ram",
        Product::ResourceManager => "rm",
        Product::ActionTrail => AUDIT_COMMAND,
        Product::Sts => "sts",
    }
}

/// The command of the audit trail: its operations (`lookup-events`) and `verify`.
pub const AUDIT_COMMAND: &str = "audit";

const PRODUCTS: [Product; 5] = [
    Product::CloudSso,
    Product::Ram,
    Product::ResourceManager,
    Product::ActionTrail,
    Product::Sts,
];

/// `SCIMSynchronizationStatus` -> `scim-synchronization-status`, `NewDirectoryName` ->
/// `new-directory-name`: a hyphen before each capital that starts a word (after a lowercase
/// letter or digit, or the last capital of an acronym followed by lowercase), all lowercase;
/// a dot becomes a hyphen (`LookupAttribute.1.Key` -> `lookup-attribute-1-key`).
/// Injective over the catalog (tested), so a flag names one parameter.
pub fn kebab(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut prev: Option<char> = None;
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_uppercase()
            && let Some(p) = prev
        {
            let next_lower = chars.peek().is_some_and(char::is_ascii_lowercase);
            if p.is_ascii_lowercase()
                || p.is_ascii_digit()
                || (p.is_ascii_uppercase() && next_lower)
            {
                out.push('-');
            }
        }
        // `LookupAttribute.1.Key`: a dot separates words too.
        out.push(if c == '.' {
            '-'
        } else {
            c.to_ascii_lowercase()
        });
        prev = Some(c);
    }
    out
}

/// The CLI's subcommands, to add beside `serve`: `configure`, `sso`, `ram`, ..., `login`, ...
pub fn commands() -> Vec<Command> {
    let mut all = vec![configure_command()];
    all.extend(PRODUCTS.iter().map(|p| product_command(*p)));
    all.extend(signin::commands());
    all
}

fn profile_arg() -> Arg {
    Arg::new("profile")
        .long("profile")
        .env("CLOUDSSO_PROFILE")
        .default_value(DEFAULT_PROFILE)
        .value_name("NAME")
        .help("profile in the config file ($CLOUDSSO_CONFIG or ~/.cloudsso/config.json)")
}

fn configure_command() -> Command {
    let value = |id: &'static str, name: &'static str, help: &'static str| {
        Arg::new(id).long(id).value_name(name).help(help)
    };
    Command::new("configure")
        .about("Save a profile: endpoint and AccessKey pair (file mode 0600)")
        .arg(profile_arg().global(false))
        .arg(
            value(
                "from-bootstrap",
                "FILE",
                "take endpoint and administrator keys from the server's <data>/bootstrap.json",
            )
            .value_parser(clap::value_parser!(PathBuf)),
        )
        .arg(value(
            "endpoint",
            "URL",
            "management API endpoint, e.g. http://127.0.0.1:8080",
        ))
        .arg(value("access-key-id", "ID", "AccessKeyId").env("CLOUDSSO_ACCESS_KEY_ID"))
        .arg(
            // From the environment, the secret stays out of `ps` and shell history.
            value("access-key-secret", "SECRET", "AccessKeySecret")
                .env("CLOUDSSO_ACCESS_KEY_SECRET")
                .hide_env_values(true),
        )
        .arg(value("region", "REGION", "region, e.g. cn-shanghai"))
}

fn product_command(product: Product) -> Command {
    let about = match product {
        Product::CloudSso => "CloudSSO operations: directories, users, groups, SCIM",
        Product::Ram => "RAM operations: administrators, AccessKeys, policies",
        Product::ResourceManager => "Resource Manager operations: accounts and folders",
        Product::ActionTrail => "The audit trail: look up events (ActionTrail), verify the chain",
        Product::Sts => "STS: who signs the requests (get-caller-identity)",
    };
    let command = Command::new(product_command_name(product))
        .about(format!("{about} (API version {})", product.version()))
        .subcommand_required(true)
        .arg_required_else_help(true)
        .arg(profile_arg().global(true))
        .arg(
            Arg::new("output")
                .long("output")
                .short('o')
                .global(true)
                .value_parser(["table", "json"])
                .default_value("table")
                .help("table for people, json (the whole answer) for scripts"),
        )
        .subcommands(
            operations()
                .filter(|o| o.product == product)
                .map(operation_command),
        );
    if product == Product::ActionTrail {
        command.subcommand(verify_command())
    } else {
        command
    }
}

/// `audit verify --data DIR`: run by `main` on the database file itself (the server must be
/// stopped; redb locks the file while it runs), not through the API.
fn verify_command() -> Command {
    Command::new("verify")
        .about("Check the audit trail's hash chain in a stopped server's data folder")
        .arg(
            Arg::new("data")
                .long("data")
                .env("CLOUDSSO_DATA")
                .value_name("DIR")
                .default_value("./data")
                .value_parser(clap::value_parser!(PathBuf))
                .help("the server's data folder"),
        )
}

fn operation_command(op: &Operation) -> Command {
    Command::new(kebab(op.name))
        .about(format!("{} ({})", op.summary, op.name))
        .args(op.params.iter().map(|p| {
            Arg::new(p.name)
                .long(kebab(p.name))
                .value_name("VALUE")
                .help(p.help)
                .required(p.required)
                .action(ArgAction::Set)
        }))
}

/// Runs the subcommand `name` (one of `commands()`); the exit code: 0 done, 1 refused by the
/// server or not sent.
pub fn run(name: &str, m: &ArgMatches) -> ExitCode {
    let result = match name {
        "configure" => configure(m),
        _ if signin::COMMANDS.contains(&name) => signin::run(name, m),
        _ => match PRODUCTS.iter().find(|p| product_command_name(**p) == name) {
            Some(product) => call(*product, m),
            None => Err(format!("unknown command `{name}`")),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            let _ = writeln!(std::io::stderr().lock(), "{message}");
            ExitCode::FAILURE
        }
    }
}

fn arg(m: &ArgMatches, id: &str) -> Option<String> {
    m.get_one::<String>(id).cloned()
}

fn profile_name(m: &ArgMatches) -> String {
    arg(m, "profile").unwrap_or_else(|| DEFAULT_PROFILE.to_owned())
}

fn configure(m: &ArgMatches) -> Result<(), String> {
    let name = profile_name(m);
    let path = config::default_path().map_err(|e| e.to_string())?;
    let mut file = ConfigFile::load(&path).map_err(|e| e.to_string())?;
    let mut profile = file.profiles.get(&name).cloned().unwrap_or_default();
    if let Some(boot) = m.get_one::<PathBuf>("from-bootstrap") {
        profile.merge(Profile::from_bootstrap(boot).map_err(|e| e.to_string())?);
    }
    profile.merge(Profile {
        endpoint: arg(m, "endpoint"),
        access_key_id: arg(m, "access-key-id"),
        access_key_secret: arg(m, "access-key-secret"),
        region: arg(m, "region"),
    });
    let creds = profile.complete(&name).map_err(|e| e.to_string())?;
    client::host_of(&creds.endpoint).map_err(|e| e.to_string())?;
    file.profiles.insert(name.clone(), profile);
    file.save(&path).map_err(|e| e.to_string())?;
    let _ = writeln!(
        std::io::stdout().lock(),
        "profile `{name}` ({}) saved to {}",
        creds.endpoint,
        path.display()
    );
    Ok(())
}

fn call(product: Product, m: &ArgMatches) -> Result<(), String> {
    let (sub, sm) = m
        .subcommand()
        .ok_or_else(|| "name an operation; see --help".to_owned())?;
    let op = operations()
        .find(|o| o.product == product && kebab(o.name) == sub)
        .ok_or_else(|| format!("unknown operation `{sub}`"))?;
    let params: Vec<(String, String)> = op
        .params
        .iter()
        .filter_map(|p| arg(sm, p.name).map(|v| (p.name.to_owned(), v)))
        .collect();
    // Global flags reach the operation's matches wherever they were given.
    let name = profile_name(sm);
    let path = config::default_path().map_err(|e| e.to_string())?;
    let file = ConfigFile::load(&path).map_err(|e| e.to_string())?;
    let creds = file
        .profile(&name)
        .and_then(|p| p.complete(&name))
        .map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the runtime: {e}"))?;
    let answer = runtime
        .block_on(client::call(&creds, op.name, product.version(), &params))
        .map_err(|e| e.to_string())?;
    if let Some((code, message)) = answer.fault() {
        return Err(format!("{code}: {message}"));
    }
    let text = match arg(sm, "output").as_deref() {
        Some("json") => {
            let mut s = serde_json::to_string_pretty(&answer.body).map_err(|e| e.to_string())?;
            s.push('\n');
            s
        }
        _ => table::render(&answer.body),
    };
    // A closed pipe (`| head`) is not an error worth a message.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Flags every `sso`/`ram` operation takes besides its parameters; no parameter may take
    /// their names.
    const RESERVED_FLAGS: &[&str] = &["profile", "output", "help"];

    #[test]
    fn kebab_splits_words_and_acronyms() {
        for (name, expected) in [
            ("ListUsers", "list-users"),
            ("NewDirectoryName", "new-directory-name"),
            ("SCIMSynchronizationStatus", "scim-synchronization-status"),
            (
                "CreateSCIMServerCredential",
                "create-scim-server-credential",
            ),
            ("UserAccessKeyId", "user-access-key-id"),
            ("DirectoryId", "directory-id"),
            ("MaxResults", "max-results"),
            ("Ipv4Address", "ipv4-address"),
            ("LookupAttribute.1.Key", "lookup-attribute-1-key"),
            ("GetUser", "get-user"),
            ("A", "a"),
            ("", ""),
        ] {
            assert_eq!(kebab(name), expected, "{name}");
        }
    }

    fn well_formed(s: &str) -> bool {
        !s.is_empty()
            && s.split('-').all(|w| {
                !w.is_empty()
                    && w.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            })
    }

    #[test]
    fn kebab_names_are_unambiguous_over_the_catalog() {
        for product in PRODUCTS {
            let ops: Vec<&Operation> = operations().filter(|o| o.product == product).collect();
            for (i, a) in ops.iter().enumerate() {
                let ka = kebab(a.name);
                assert!(well_formed(&ka), "{ka}");
                for b in ops.iter().skip(i + 1) {
                    assert_ne!(ka, kebab(b.name), "{} and {}", a.name, b.name);
                }
                for (j, p) in a.params.iter().enumerate() {
                    let kp = kebab(p.name);
                    assert!(well_formed(&kp), "{kp}");
                    assert!(!RESERVED_FLAGS.contains(&kp.as_str()), "{}", p.name);
                    for q in a.params.iter().skip(j + 1) {
                        assert_ne!(kp, kebab(q.name), "{}: {} and {}", a.name, p.name, q.name);
                    }
                }
            }
        }
    }

    fn parse(args: &[&str]) -> Result<ArgMatches, clap::Error> {
        Command::new("cloudsso")
            .subcommands(commands())
            .try_get_matches_from(std::iter::once("cloudsso").chain(args.iter().copied()))
    }

    #[test]
    fn every_operation_parses_with_its_required_flags() {
        for op in operations() {
            let mut args = vec![product_command_name(op.product).to_owned(), kebab(op.name)];
            for p in op.params.iter().filter(|p| p.required) {
                args.push(format!("--{}", kebab(p.name)));
                args.push(format!("v-{}", p.name));
            }
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let m = parse(&refs).unwrap_or_else(|e| panic!("{}: {e}", op.name));
            let (_, pm) = m.subcommand().unwrap();
            let (_, om) = pm.subcommand().unwrap();
            for p in op.params.iter().filter(|p| p.required) {
                assert_eq!(arg(om, p.name), Some(format!("v-{}", p.name)));
            }
            if op.params.iter().any(|p| p.required) {
                assert!(
                    parse(&refs[..2]).is_err(),
                    "{} without its parameters",
                    op.name
                );
            }
        }
    }

    #[test]
    fn global_flags_go_before_or_after_the_operation() {
        let m = parse(&[
            "sso",
            "--profile",
            "p1",
            "list-users",
            "--directory-id",
            "d-1",
            "--output",
            "json",
            "--max-results",
            "5",
        ])
        .unwrap();
        let (_, pm) = m.subcommand().unwrap();
        let (_, om) = pm.subcommand().unwrap();
        assert_eq!(arg(om, "profile").as_deref(), Some("p1"));
        assert_eq!(arg(om, "output").as_deref(), Some("json"));
        assert_eq!(arg(om, "MaxResults").as_deref(), Some("5"));
        assert!(parse(&["sso", "list-users", "--directory-id", "d", "-o", "xml"]).is_err());
        assert!(parse(&["ram", "create-user", "--user-name", "bob"]).is_ok());
    }
}
