//! Resource Manager (2020-03-31) accounts and folders through `Api::handle`: each operation,
//! its refusals, and authorization (`resourcemanager:*` actions).

use cloudsso::api::protocol::{RAM_VERSION, RESOURCE_MANAGER_VERSION as RM};
use serde_json::Value;

type Fixture = crate::harness::LibApi;

async fn fixture() -> Fixture {
    Fixture::start().await
}

trait OkCall {
    async fn ok(&self, action: &str, params: &[(&str, &str)]) -> Value;
}

impl OkCall for Fixture {
    /// A 200 answer's body.
    async fn ok(&self, action: &str, params: &[(&str, &str)]) -> Value {
        let (s, b) = self.call(RM, action, params).await;
        assert_eq!(s, 200, "{action}: {b}");
        b
    }
}

fn code(v: &Value) -> &str {
    v["Code"].as_str().unwrap_or("")
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

#[tokio::test]
async fn every_operation() {
    let f = fixture().await;
    let b = f.ok("CreateFolder", &[("FolderName", "Dev")]).await;
    let dev = s(&b["Folder"]["FolderId"]).to_owned();
    let root = s(&b["Folder"]["ParentFolderId"]).to_owned();
    assert!(dev.starts_with("fd-") && root.starts_with("r-"), "{b}");
    assert_eq!(b["Folder"]["FolderName"], "Dev");
    assert!(s(&b["Folder"]["CreateTime"]).ends_with('Z'));
    f.ok(
        "CreateFolder",
        &[("FolderName", "Web"), ("ParentFolderId", &dev)],
    )
    .await;

    let b = f
        .ok(
            "CreateResourceAccount",
            &[
                ("DisplayName", "Dev account"),
                ("ParentFolderId", &dev),
                ("AccountNamePrefix", "alice"),
            ],
        )
        .await;
    let acc = &b["Account"];
    let id = s(&acc["AccountId"]).to_owned();
    assert_eq!(id.len(), 16, "{b}");
    assert!(id.bytes().all(|c| c.is_ascii_digit()));
    let rd = s(&acc["ResourceDirectoryId"]).to_owned();
    assert_eq!(acc["AccountName"], format!("alice@{rd}.aliyunid.com"));
    assert_eq!(acc["DisplayName"], "Dev account");
    assert_eq!(acc["FolderId"], dev.as_str());
    assert_eq!(acc["JoinMethod"], "created");
    assert_eq!(acc["Status"], "CreateSuccess");
    assert_eq!(acc["Type"], "ResourceAccount");
    assert!(s(&acc["JoinTime"]).ends_with('Z'));
    let b = f
        .ok("CreateResourceAccount", &[("DisplayName", "Ops")])
        .await;
    assert_eq!(b["Account"]["FolderId"], root.as_str());

    let b = f
        .ok("GetAccount", &[("AccountId", &id), ("IncludeTags", "True")])
        .await;
    assert_eq!(
        b["Account"]["ResourceDirectoryPath"],
        format!("{rd}/{root}/{dev}/{id}")
    );
    assert_eq!(b["Account"]["Location"], "root/Dev");
    assert_eq!(b["Account"]["Tags"], serde_json::json!([]));

    let b = f.ok("ListAccounts", &[("PageSize", "1")]).await;
    assert_eq!(
        (&b["PageNumber"], &b["PageSize"], &b["TotalCount"]),
        (&1.into(), &1.into(), &2.into())
    );
    assert_eq!(b["Accounts"]["Account"].as_array().unwrap().len(), 1);
    let b = f
        .ok("ListAccounts", &[("PageNumber", "2"), ("PageSize", "1")])
        .await;
    assert_eq!(b["Accounts"]["Account"].as_array().unwrap().len(), 1);
    let b = f.ok("ListAccounts", &[("PageNumber", "3")]).await;
    assert_eq!(b["Accounts"]["Account"], serde_json::json!([]));
    assert_eq!(b["TotalCount"], 2);

    let b = f.ok("ListFoldersForParent", &[]).await;
    assert_eq!(b["TotalCount"], 1);
    assert_eq!(b["Folders"]["Folder"][0]["FolderId"], dev.as_str());
    let b = f
        .ok(
            "ListFoldersForParent",
            &[("ParentFolderId", &dev), ("QueryKeyword", "we")],
        )
        .await;
    assert_eq!(b["Folders"]["Folder"][0]["FolderName"], "Web");

    let b = f.ok("DeleteAccount", &[("AccountId", &id)]).await;
    assert_eq!(b["DeletionType"], "0");
    let (st, b) = f.call(RM, "GetAccount", &[("AccountId", &id)]).await;
    assert_eq!((st, code(&b)), (404, "EntityNotExists.Account"));
}

/// Operation, parameters, expected status and `Code`.
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], u16, &'a str);

#[tokio::test]
async fn refusals() {
    let f = fixture().await;
    f.ok("CreateResourceAccount", &[("DisplayName", "Dev")])
        .await;
    f.ok("CreateFolder", &[("FolderName", "Dev")]).await;
    let long = "x".repeat(51);
    let cases: &[Case] = &[
        (
            "CreateResourceAccount",
            &[],
            400,
            "MissingParameter.DisplayName",
        ),
        (
            "CreateResourceAccount",
            &[("DisplayName", "D")],
            400,
            "InvalidParameter.DisplayName",
        ),
        (
            "CreateResourceAccount",
            &[("DisplayName", &long)],
            400,
            "InvalidParameter.DisplayName",
        ),
        (
            "CreateResourceAccount",
            &[("DisplayName", "Dev")],
            400,
            "InvalidParameter.DisplayName.AlreadyUsed",
        ),
        (
            "CreateResourceAccount",
            &[("DisplayName", "X1"), ("AccountNamePrefix", "a..b")],
            400,
            "InvalidParameter.AccountNamePrefix",
        ),
        (
            "CreateResourceAccount",
            &[("DisplayName", "X2"), ("ParentFolderId", "nope")],
            400,
            "InvalidParameter.ParentFolderId",
        ),
        (
            "CreateResourceAccount",
            &[("DisplayName", "X3"), ("ParentFolderId", "fd-0000000000")],
            404,
            "EntityNotExists.Folder",
        ),
        ("GetAccount", &[], 400, "MissingParameter.AccountId"),
        (
            "GetAccount",
            &[("AccountId", "12ab")],
            400,
            "InvalidParameter.AccountId",
        ),
        (
            "GetAccount",
            &[("AccountId", "1000000000000000")],
            404,
            "EntityNotExists.Account",
        ),
        (
            "GetAccount",
            &[("AccountId", "1000000000000000"), ("IncludeTags", "yes")],
            400,
            "InvalidParameter.IncludeTags",
        ),
        (
            "DeleteAccount",
            &[("AccountId", "1000000000000000")],
            404,
            "EntityNotExists.Account",
        ),
        (
            "ListAccounts",
            &[("PageSize", "101")],
            400,
            "InvalidParameter.PageSize",
        ),
        (
            "ListAccounts",
            &[("PageNumber", "0")],
            400,
            "InvalidParameter.PageNumber",
        ),
        ("CreateFolder", &[], 400, "MissingParameter.FolderName"),
        (
            "CreateFolder",
            &[("FolderName", "a b")],
            400,
            "InvalidParameter.Folder.Name",
        ),
        (
            "CreateFolder",
            &[("FolderName", &long)],
            400,
            "InvalidParameter.Folder.Name.Length",
        ),
        (
            "CreateFolder",
            &[("FolderName", "Dev")],
            400,
            "InvalidParameter.Folder.Name.AlreadyUsed",
        ),
        (
            "CreateFolder",
            &[("FolderName", "X"), ("ParentFolderId", "r-000000")],
            404,
            "EntityNotExists.Folder",
        ),
        (
            "ListFoldersForParent",
            &[("ParentFolderId", "fd-0000000000")],
            404,
            "EntityNotExists.Folder",
        ),
        (
            "ListFoldersForParent",
            &[("PageSize", "0")],
            400,
            "InvalidParameter.PageSize",
        ),
        ("NoSuchOperation", &[], 404, "InvalidAction.NotFound"),
    ];
    let mut failures = Vec::new();
    for (action, params, status, want) in cases {
        let (st, b) = f.call(RM, action, params).await;
        if (st, code(&b)) != (*status, *want) {
            failures.push(format!(
                "{action} {params:?}: {st} {b}, want {status} {want}"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test]
async fn authorization() {
    let f = fixture().await;
    let id = s(&f
        .ok("CreateResourceAccount", &[("DisplayName", "Prod")])
        .await["Account"]["AccountId"])
    .to_owned();
    let (st, b) = f
        .call(RAM_VERSION, "CreateUser", &[("UserName", "ops")])
        .await;
    assert_eq!(st, 200, "{b}");
    let (st, b) = f
        .call(RAM_VERSION, "CreateAccessKey", &[("UserName", "ops")])
        .await;
    assert_eq!(st, 200, "{b}");
    let ops = (
        s(&b["AccessKey"]["AccessKeyId"]).to_owned(),
        s(&b["AccessKey"]["AccessKeySecret"]).to_owned(),
    );
    let account = f.app.iam.account_id().await.unwrap();
    let policies = [
        ("sso", r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"cloudsso:*","Resource":"*"}]}"#.to_owned()),
        ("rmget", format!(r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"resourcemanager:Get*","Resource":"acs:resourcemanager:*:{account}:account/{id}"}}]}}"#)),
    ];
    let fx = &f;
    let attach = |name: &'static str| async move {
        let (st, b) = fx
            .call(
                RAM_VERSION,
                "AttachPolicyToUser",
                &[
                    ("PolicyType", "Custom"),
                    ("PolicyName", name),
                    ("UserName", "ops"),
                ],
            )
            .await;
        assert_eq!(st, 200, "{b}");
    };
    for (name, doc) in &policies {
        let (st, b) = f
            .call(
                RAM_VERSION,
                "CreatePolicy",
                &[("PolicyName", name), ("PolicyDocument", doc)],
            )
            .await;
        assert_eq!(st, 200, "{b}");
    }
    attach("sso").await;
    // Without resourcemanager:* every operation is refused.
    for (action, params) in [
        ("CreateResourceAccount", vec![("DisplayName", "X")]),
        ("GetAccount", vec![("AccountId", id.as_str())]),
        ("ListAccounts", vec![]),
        ("DeleteAccount", vec![("AccountId", id.as_str())]),
        ("CreateFolder", vec![("FolderName", "X")]),
        ("ListFoldersForParent", vec![]),
    ] {
        let (st, b) = f.call_as(&ops, RM, action, &params).await;
        assert_eq!((st, code(&b)), (403, "NoPermission"), "{action}: {b}");
    }
    // Allowed on one account's ARN: that account only, and only Get.
    attach("rmget").await;
    let (st, b) = f
        .call_as(&ops, RM, "GetAccount", &[("AccountId", &id)])
        .await;
    assert_eq!(st, 200, "{b}");
    let (st, b) = f
        .call_as(&ops, RM, "GetAccount", &[("AccountId", "1000000000000000")])
        .await;
    assert_eq!((st, code(&b)), (403, "NoPermission"), "{b}");
    assert!(
        b["Message"].as_str().unwrap().contains(&format!(
            "acs:resourcemanager:*:{account}:account/1000000000000000"
        )),
        "{b}"
    );
    let (st, b) = f
        .call_as(&ops, RM, "DeleteAccount", &[("AccountId", &id)])
        .await;
    assert_eq!((st, code(&b)), (403, "NoPermission"), "{b}");
}
