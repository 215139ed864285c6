//! The column types real schemas use, in DDL, in the drift check and in
//! generated code, and a SQL type of the application's own.

use orm_core::chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use orm_core::prelude::*;
use orm_core::Drift;

/// Types every backend has.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Appointment {
    pub id: i32,
    pub day: NaiveDate,
    pub at: NaiveTime,
    pub note: Option<String>,
    // diesel's SQL type for `DateTime<Utc>` on SQLite (the derive infers it
    // in a build without feature `postgres`).
    #[model(sql_type = orm_core::diesel::sql_types::TimestamptzSqlite)]
    pub booked_at: DateTime<Utc>,
}

fn appointment() -> NewAppointment {
    NewAppointment {
        day: NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
        at: NaiveTime::from_hms_micro_opt(9, 30, 15, 250).unwrap(),
        note: None,
        booked_at: DateTime::from_timestamp(1_764_667_815, 250_000).unwrap(),
    }
}

#[test]
fn dates_and_times_on_sqlite() -> orm_tests::TestResult {
    let conn = &mut orm_core::sqlite::memory()?;
    let schema = Schema::new().model::<Appointment>();
    schema.create_all(conn)?;
    let created = Appointment::create(appointment(), conn)?;
    assert_eq!(Appointment::find(created.id, conn)?, created);
    assert_eq!(created.day, appointment().day);
    assert_eq!(created.booked_at, appointment().booked_at);
    assert_eq!(schema.check(conn)?, Vec::<Drift>::new());
    Ok(())
}

mod postgres {
    use super::*;
    use orm_core::diesel::connection::SimpleConnection;
    use orm_core::diesel::deserialize::{self, FromSql};
    use orm_core::diesel::pg::{Pg, PgValue};
    use orm_core::diesel::serialize::{self, IsNull, Output, ToSql};
    use orm_core::schema::{ColumnType, CustomType, DdlType};
    use std::io::Write;

    /// A PostgreSQL enum, the way diesel's guide maps one.
    #[derive(orm_core::diesel::sql_types::SqlType, orm_core::diesel::query_builder::QueryId)]
    #[diesel(postgres_type(name = "mood"))]
    pub struct MoodType;

    // The public way to give a SQL type of one's own to the DDL and to
    // the drift check.
    impl DdlType for MoodType {
        const TYPE: ColumnType = ColumnType::Custom(&CustomType {
            sqlite: "TEXT",
            postgres: "mood",
            mysql: "ENUM('sad', 'happy')",
            postgres_catalog: "USER-DEFINED",
            mysql_catalog: "enum",
        });
    }

    #[derive(
        Debug, Clone, Copy, PartialEq, orm_core::diesel::AsExpression, orm_core::diesel::FromSqlRow,
    )]
    #[diesel(sql_type = MoodType)]
    pub enum Mood {
        Sad,
        Happy,
    }

    impl ToSql<MoodType, Pg> for Mood {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
            out.write_all(match self {
                Mood::Sad => b"sad",
                Mood::Happy => b"happy",
            })?;
            Ok(IsNull::No)
        }
    }

    impl FromSql<MoodType, Pg> for Mood {
        fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
            match bytes.as_bytes() {
                b"sad" => Ok(Mood::Sad),
                b"happy" => Ok(Mood::Happy),
                other => Err(format!("unknown mood {:?}", String::from_utf8_lossy(other)).into()),
            }
        }
    }

    #[derive(Model, Debug, Clone, PartialEq)]
    pub struct Shipment {
        pub id: i32,
        pub ordered_at: DateTime<Utc>,
        pub due: NaiveDate,
        pub slot: Option<NaiveTime>,
        pub tracking: uuid::Uuid,
        #[model(sql_type = orm_core::diesel::sql_types::Jsonb)]
        pub details: serde_json::Value,
        #[model(sql_type = orm_core::diesel::sql_types::Json)]
        pub raw: serde_json::Value,
        pub labels: Vec<String>,
        pub sizes: Vec<i32>,
        #[model(sql_type = MoodType)]
        pub mood: Mood,
        #[model(sql_type = orm_core::diesel::sql_types::Inet)]
        pub origin: ipnet::IpNet,
        #[model(sql_type = orm_core::diesel::sql_types::Cidr)]
        pub network: ipnet::IpNet,
        #[model(sql_type = orm_core::diesel::sql_types::MacAddr)]
        pub device: [u8; 6],
    }

    /// A device keyed by a UUID it carries, and its readings.
    #[derive(Model, Debug, Clone, PartialEq)]
    #[has_many(Reading, foreign_key = "device_serial")]
    pub struct Device {
        #[model(primary_key)]
        pub serial: uuid::Uuid,
        pub name: String,
    }

    #[derive(Model, Debug, Clone, PartialEq)]
    #[belongs_to(Device, foreign_key = "device_serial")]
    pub struct Reading {
        pub id: i32,
        pub device_serial: Option<uuid::Uuid>,
        pub value: i32,
    }

    #[test]
    fn associations_hold_uuid_keys() -> orm_tests::TestResult {
        let Some(mut conn) = orm_tests::postgres("uuid_keys") else {
            return Ok(());
        };
        let conn = &mut *conn;
        let schema = Schema::new().model::<Device>().model::<Reading>();
        schema.create_all(conn)?;
        let serial = uuid::Uuid::from_u128(0x6ba7_b810_9dad_11d1_80b4_00c0_4fd4_30c8);
        let device = Device::create(
            NewDevice {
                serial,
                name: "probe".into(),
            },
            conn,
        )?;
        let reading = device.create_reading(
            NewReading {
                device_serial: None,
                value: 7,
            },
            conn,
        )?;
        assert_eq!(reading.device_serial, Some(serial));
        assert_eq!(reading.device(conn)?, Some(device.clone()));
        let loose = Reading::create(
            NewReading {
                device_serial: None,
                value: 8,
            },
            conn,
        )?;
        assert_eq!(device.add_reading(&loose, conn)?, 1);
        assert_eq!(device.count_readings(conn)?, 2);
        let rows: Vec<(i32, Option<uuid::Uuid>)> = readings::table
            .select((readings::id, readings::device_serial))
            .order(readings::id)
            .load(conn)?;
        assert_eq!(
            rows,
            vec![(reading.id, Some(serial)), (loose.id, Some(serial))]
        );
        assert!(schema
            .sql(orm_core::Dialect::Postgres)?
            .join("\n")
            .contains("REFERENCES"));
        assert_eq!(schema.check(conn)?, Vec::<Drift>::new());
        Ok(())
    }

    #[test]
    fn every_type_round_trips_and_the_drift_check_agrees() -> orm_tests::TestResult {
        let Some(mut conn) = orm_tests::postgres("types") else {
            return Ok(());
        };
        let conn = &mut *conn;
        conn.batch_execute("CREATE TYPE mood AS ENUM ('sad', 'happy')")?;
        let schema = Schema::new().model::<Shipment>();
        schema.create_all(conn)?;
        let new = NewShipment {
            ordered_at: DateTime::from_timestamp(1_764_667_815, 123_456_000).unwrap(),
            due: NaiveDate::from_ymd_opt(2026, 12, 24).unwrap(),
            slot: Some(NaiveTime::from_hms_opt(8, 0, 0).unwrap()),
            tracking: uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
            details: serde_json::json!({"weight": 2.5, "fragile": true}),
            raw: serde_json::json!([1, "two"]),
            labels: vec!["a".into(), "b, c".into()],
            sizes: vec![1, -2, 3],
            mood: Mood::Happy,
            origin: "192.0.2.7/32".parse().unwrap(),
            network: "2001:db8::/32".parse().unwrap(),
            device: [0x08, 0x00, 0x2b, 0x01, 0x02, 0x03],
        };
        let created = Shipment::create(new.clone(), conn)?;
        assert_eq!(created.ordered_at, new.ordered_at);
        assert_eq!(created.details, new.details);
        assert_eq!(created.labels, new.labels);
        assert_eq!(created.mood, Mood::Happy);
        assert_eq!(
            (created.origin, created.network, created.device),
            (new.origin, new.network, new.device)
        );
        assert_eq!(Shipment::find(created.id, conn)?, created);
        let found = Shipment::query()
            .filter(shipments::mood.eq(Mood::Happy))
            .filter(shipments::tracking.eq(new.tracking))
            .load::<Shipment>(conn)?;
        assert_eq!(found, vec![created]);
        let ddl = schema.sql(orm_core::Dialect::Postgres)?.join("\n");
        for column in [
            "TIMESTAMPTZ",
            "DATE",
            "TIME",
            "UUID",
            "JSONB",
            "JSON",
            "TEXT[]",
            "INTEGER[]",
            "mood",
            "INET",
            "CIDR",
            "MACADDR",
        ] {
            assert!(ddl.contains(column), "{column} in {ddl}");
        }
        assert_eq!(schema.check(conn)?, Vec::<Drift>::new());
        // A column of another type is still drift.
        conn.batch_execute("ALTER TABLE shipments ALTER COLUMN due TYPE TEXT")?;
        assert_eq!(
            schema.check(conn)?,
            vec![Drift::ColumnType {
                table: "shipments".into(),
                column: "due".into(),
                expected: "date".into(),
                found: "text".into(),
            }]
        );
        Ok(())
    }
}
