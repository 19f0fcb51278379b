//! Metrics in the Prometheus text format (`GET /metrics`): requests by route, method
//! and status; request latency by route; objects in (stored, rejected) and out per
//! organisation; requests in flight.
//!
//! Counters live behind one `std::sync::Mutex`, taken once per request for a few map
//! updates (never per object, never across an await).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

/// Upper bounds of the latency histogram buckets, in seconds.
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    buckets: [u64; LATENCY_BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
struct Counters {
    requests: BTreeMap<(String, &'static str, u16), u64>,
    latency: BTreeMap<String, Histogram>,
    objects_in: BTreeMap<(String, &'static str), u64>,
    objects_out: BTreeMap<String, u64>,
}

/// The server's metrics.
#[derive(Default)]
pub struct Metrics {
    counters: Mutex<Counters>,
    in_flight: AtomicI64,
}

/// A method name with a static lifetime (unusual methods are counted as `OTHER`).
pub fn method_name(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

impl Metrics {
    fn counters(&self) -> std::sync::MutexGuard<'_, Counters> {
        self.counters.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A request started.
    pub fn started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// A request finished.
    pub fn finished(&self, route: &str, method: &'static str, status: u16, seconds: f64) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        let mut c = self.counters();
        *c.requests
            .entry((route.to_string(), method, status))
            .or_default() += 1;
        let h = c.latency.entry(route.to_string()).or_default();
        h.count += 1;
        h.sum += seconds;
        for (bucket, bound) in h.buckets.iter_mut().zip(LATENCY_BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
    }

    /// Objects posted by `organisation`: how many were stored and how many rejected.
    pub fn objects_in(&self, organisation: &str, stored: u64, rejected: u64) {
        let mut c = self.counters();
        *c.objects_in
            .entry((organisation.to_string(), "stored"))
            .or_default() += stored;
        *c.objects_in
            .entry((organisation.to_string(), "rejected"))
            .or_default() += rejected;
    }

    /// Objects released to `organisation`.
    pub fn objects_out(&self, organisation: &str, count: u64) {
        *self
            .counters()
            .objects_out
            .entry(organisation.to_string())
            .or_default() += count;
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let c = self.counters();
        let mut out = String::with_capacity(4096);
        out.push_str("# HELP accord_http_requests_total HTTP requests served.\n");
        out.push_str("# TYPE accord_http_requests_total counter\n");
        for ((route, method, status), n) in &c.requests {
            let _ = writeln!(
                out,
                "accord_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        out.push_str("# HELP accord_http_request_duration_seconds Time to answer a request.\n");
        out.push_str("# TYPE accord_http_request_duration_seconds histogram\n");
        for (route, h) in &c.latency {
            let route = escape(route);
            for (bound, n) in LATENCY_BUCKETS.iter().zip(h.buckets) {
                let _ = writeln!(
                    out,
                    "accord_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "accord_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "accord_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "accord_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
        out.push_str(
            "# HELP accord_taxii_objects_in_total Objects posted, by organisation and outcome.\n",
        );
        out.push_str("# TYPE accord_taxii_objects_in_total counter\n");
        for ((org, outcome), n) in &c.objects_in {
            let _ = writeln!(
                out,
                "accord_taxii_objects_in_total{{organisation=\"{}\",outcome=\"{outcome}\"}} {n}",
                escape(org)
            );
        }
        out.push_str(
            "# HELP accord_taxii_objects_out_total Objects released, by receiving organisation.\n",
        );
        out.push_str("# TYPE accord_taxii_objects_out_total counter\n");
        for (org, n) in &c.objects_out {
            let _ = writeln!(
                out,
                "accord_taxii_objects_out_total{{organisation=\"{}\"}} {n}",
                escape(org)
            );
        }
        out.push_str("# HELP accord_http_requests_in_flight Requests being served.\n");
        out.push_str("# TYPE accord_http_requests_in_flight gauge\n");
        let _ = writeln!(
            out,
            "accord_http_requests_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        out
    }
}

/// Escape a label value (`\`, `"` and newlines).
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_counters_and_histograms() {
        let m = Metrics::default();
        m.started();
        m.finished("/{api_root}/", "GET", 200, 0.003);
        m.objects_in("police", 5, 2);
        m.objects_out("po\"lice", 7);
        let text = m.render();
        assert!(text.contains(
            "accord_http_requests_total{route=\"/{api_root}/\",method=\"GET\",status=\"200\"} 1"
        ));
        assert!(text.contains(
            "accord_http_request_duration_seconds_bucket{route=\"/{api_root}/\",le=\"0.0025\"} 0"
        ));
        assert!(text.contains(
            "accord_http_request_duration_seconds_bucket{route=\"/{api_root}/\",le=\"0.005\"} 1"
        ));
        assert!(text.contains(
            "accord_taxii_objects_in_total{organisation=\"police\",outcome=\"rejected\"} 2"
        ));
        assert!(text.contains("accord_taxii_objects_out_total{organisation=\"po\\\"lice\"} 7"));
        assert!(text.contains("accord_http_requests_in_flight 0"));
    }
}
