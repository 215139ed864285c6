//! The `service` example, started as its binary on 127.0.0.1 and sent real
//! HTTP requests: the rows it writes come back through its reads, its errors
//! are the statuses it documents, and concurrent requests on its pool all
//! land.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

/// The running service; killed when dropped.
struct Service {
    child: Child,
    addr: String,
    database: std::path::PathBuf,
}

impl Service {
    /// Starts the service on a new database file named after `test`.
    fn start(test: &str) -> Service {
        let file = format!("orm-service-{test}-{}.db", std::process::id());
        let database = std::env::temp_dir().join(file);
        let _ = std::fs::remove_file(&database);
        let mut child = Command::new(env!("CARGO_BIN_EXE_service"))
            .env("PORT", "0")
            .env("DATABASE", &database)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the service");
        let stdout = child.stdout.take().expect("its stdout");
        let addr = BufReader::new(stdout)
            .lines()
            .map(|line| line.expect("a line of its output"))
            .find_map(|line| line.strip_prefix("listening on http://").map(str::to_owned))
            .expect("the service prints the address it listens on");
        Service {
            child,
            addr,
            database,
        }
    }

    /// Sends one request and returns the status and the JSON body.
    fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut stream = TcpStream::connect(&self.addr).expect("connect to the service");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .expect("send the request");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("read the response");
        let (head, body) = response.split_once("\r\n\r\n").expect("a head and a body");
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status line");
        let json = serde_json::from_str(body).unwrap_or(Value::Null);
        (status, json)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.database.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

#[test]
fn events_and_guests_over_http() {
    let service = Service::start("http");
    let (status, ada) = service.send("POST", "/users", Some(json!({ "name": "Ada" })));
    assert_eq!((status, &ada["name"]), (201, &json!("Ada")));
    let (_, bob) = service.send("POST", "/users", Some(json!({ "name": "Bob" })));
    let (status, party) = service.send("POST", "/events", Some(json!({ "title": "Party" })));
    assert_eq!((status, &party["title"]), (201, &json!("Party")));
    let party_path = format!("/events/{}", party["id"]);

    let add_ada = format!("{party_path}/guests/{}", ada["id"]);
    assert_eq!(
        service.send("POST", &add_ada, None),
        (200, json!({ "added": 1 }))
    );
    assert_eq!(
        service.send("POST", &add_ada, None),
        (200, json!({ "added": 0 })),
        "already a guest"
    );
    let (status, shown) = service.send("GET", &party_path, None);
    assert_eq!(status, 200);
    assert_eq!(
        shown,
        json!({ "id": party["id"], "title": "Party", "guests": [ada] })
    );

    // Replacing the list: Bob in, Ada out.
    let (status, diff) = service.send(
        "PUT",
        &format!("{party_path}/guests"),
        Some(json!([bob["id"]])),
    );
    assert_eq!((status, diff), (200, json!({ "added": 1, "removed": 1 })));
    let (_, events) = service.send("GET", "/events", None);
    assert_eq!(
        events,
        json!([{ "id": party["id"], "title": "Party", "guests": [bob] }])
    );

    let remove_bob = format!("{party_path}/guests/{}", bob["id"]);
    assert_eq!(
        service.send("DELETE", &remove_bob, None),
        (200, json!({ "removed": 1 }))
    );
    let (_, shown) = service.send("GET", &party_path, None);
    assert_eq!(shown["guests"], json!([]));

    // Errors: an unknown event, a guest who does not exist (the foreign
    // key refuses it, nothing is written), a body that is not a user.
    let (status, error) = service.send("GET", "/events/999", None);
    assert_eq!(status, 404);
    assert!(error["error"].is_string(), "{error}");
    let (status, _) = service.send("POST", &format!("{party_path}/guests/999"), None);
    assert_eq!(status, 422);
    let (_, shown) = service.send("GET", &party_path, None);
    assert_eq!(shown["guests"], json!([]));
    let (status, _) = service.send("POST", "/users", Some(json!({ "nom": "Cy" })));
    assert_eq!(status, 422);
}

#[test]
fn concurrent_requests_all_land() {
    let service = Service::start("concurrent");
    let (_, party) = service.send("POST", "/events", Some(json!({ "title": "Party" })));
    let users: Vec<Value> = (0..16)
        .map(|i| {
            service
                .send("POST", "/users", Some(json!({ "name": format!("u{i}") })))
                .1
        })
        .collect();
    // Sixteen clients add one guest each, at once, through the pool.
    std::thread::scope(|s| {
        for user in &users {
            let path = format!("/events/{}/guests/{}", party["id"], user["id"]);
            let service = &service;
            s.spawn(move || assert_eq!(service.send("POST", &path, None).0, 200));
        }
    });
    let (_, shown) = service.send("GET", &format!("/events/{}", party["id"]), None);
    let mut ids: Vec<i64> = shown["guests"]
        .as_array()
        .expect("guests")
        .iter()
        .map(|u| u["id"].as_i64().expect("an id"))
        .collect();
    ids.sort();
    let expected: Vec<i64> = users
        .iter()
        .map(|u| u["id"].as_i64().expect("an id"))
        .collect();
    assert_eq!(ids, expected);
}
