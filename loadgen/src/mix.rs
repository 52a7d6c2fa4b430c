//! The request mix: which URL each request goes to, with weights, and the
//! request each one becomes (method, headers, body).

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, Uri};
use http_body_util::Full;
use rand::RngExt;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;

/// One entry of the mix.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub url: url::Url,
    pub uri: Uri,
    /// The same in origin form (path and query) with its Host header, for a
    /// request on a connection of its own (`--rps max`), worked out once.
    origin: Uri,
    host: Option<HeaderValue>,
    /// The URL path, as recorded in the report's `paths`.
    pub path: String,
}

/// All endpoints, their weights, and the request shape they share.
#[derive(Debug)]
pub struct Mix {
    pub endpoints: Vec<Endpoint>,
    weights: Option<WeightedIndex<u32>>,
    method: Method,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

#[derive(Debug, thiserror::Error)]
pub enum MixError {
    #[error("`{0}` is not a valid URL once joined: {1}")]
    Url(String, String),
    #[error("weights: {0}")]
    Weights(String),
}

impl Mix {
    /// `paths` are appended to `base`; with none, `base` alone.
    pub fn new(
        base: &url::Url,
        paths: &[(String, u32)],
        method: Method,
        headers: Vec<(HeaderName, HeaderValue)>,
        body: Bytes,
    ) -> Result<Self, MixError> {
        let pairs: Vec<(String, u32)> = if paths.is_empty() {
            vec![(String::new(), 1)]
        } else {
            paths.to_vec()
        };
        let mut endpoints = Vec::with_capacity(pairs.len());
        for (p, _) in &pairs {
            let mut url = base.clone();
            if !p.is_empty() {
                let joined = format!("{}{}", base.path().trim_end_matches('/'), p);
                url.set_path(&joined);
            }
            let uri: Uri = url.as_str().parse().map_err(|e: http::uri::InvalidUri| {
                MixError::Url(url.to_string(), e.to_string())
            })?;
            let origin = uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .parse()
                .map_err(|e: http::uri::InvalidUri| {
                    MixError::Url(url.to_string(), e.to_string())
                })?;
            let host = uri
                .authority()
                .and_then(|a| HeaderValue::from_str(a.as_str()).ok());
            endpoints.push(Endpoint {
                path: url.path().to_owned(),
                uri,
                origin,
                host,
                url,
            });
        }
        let weights = if pairs.len() > 1 {
            Some(
                WeightedIndex::new(pairs.iter().map(|(_, w)| *w))
                    .map_err(|e| MixError::Weights(e.to_string()))?,
            )
        } else {
            None
        };
        Ok(Self {
            endpoints,
            weights,
            method,
            headers,
            body,
        })
    }

    /// Picks an endpoint index.
    pub fn pick<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> usize {
        self.weights.as_ref().map_or(0, |w| w.sample(rng))
    }

    /// Picks one of `n` virtual clients.
    pub fn pick_client<R: rand::Rng + ?Sized>(rng: &mut R, n: usize) -> usize {
        if n <= 1 { 0 } else { rng.random_range(0..n) }
    }

    /// The request for endpoint `i`.
    pub fn request(&self, i: usize) -> Request<Full<Bytes>> {
        let mut req = Request::new(Full::new(self.body.clone()));
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self.endpoints[i].uri.clone();
        let h = req.headers_mut();
        for (k, v) in &self.headers {
            h.append(k.clone(), v.clone());
        }
        req
    }

    /// The request for endpoint `i` as sent on a direct connection: origin
    /// form, with a Host header unless `--header` gave one.
    pub fn direct_request(&self, i: usize) -> Request<Full<Bytes>> {
        let mut req = self.request(i);
        let e = &self.endpoints[i];
        *req.uri_mut() = e.origin.clone();
        if let Some(host) = &e.host {
            req.headers_mut()
                .entry(http::header::HOST)
                .or_insert_with(|| host.clone());
        }
        req
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_direct_request_is_in_origin_form_with_its_host() {
        let base: url::Url = "http://127.0.0.1:8080/dev/".parse().expect("url");
        let m = Mix::new(
            &base,
            &[("/host".into(), 1)],
            Method::GET,
            vec![],
            Bytes::new(),
        )
        .expect("mix");
        let r = m.direct_request(0);
        assert_eq!(r.uri().to_string(), "/dev/host");
        assert_eq!(r.headers()[http::header::HOST], "127.0.0.1:8080");
        let given = Mix::new(
            &base,
            &[],
            Method::GET,
            vec![(http::header::HOST, HeaderValue::from_static("example.test"))],
            Bytes::new(),
        )
        .expect("mix");
        let r = given.direct_request(0);
        assert_eq!(r.headers().get_all(http::header::HOST).iter().count(), 1);
        assert_eq!(r.headers()[http::header::HOST], "example.test");
    }

    #[test]
    fn paths_join_the_base_without_double_slashes() {
        let base: url::Url = "http://127.0.0.1:8080/dev/".parse().expect("url");
        let m = Mix::new(
            &base,
            &[("/host".into(), 3), ("/work/20".into(), 1)],
            Method::GET,
            vec![],
            Bytes::new(),
        )
        .expect("mix");
        assert_eq!(
            m.endpoints[0].url.as_str(),
            "http://127.0.0.1:8080/dev/host"
        );
        assert_eq!(m.endpoints[1].path, "/dev/work/20");
        let mut rng = rand::rngs::SmallRng::seed_from_u64(3);
        let picks: Vec<usize> = (0..4000).map(|_| m.pick(&mut rng)).collect();
        let first = picks.iter().filter(|i| **i == 0).count();
        // Binomial(4000, 0.75): sd 27; 2800..3200 is beyond 7 sd.
        assert!((2800..3200).contains(&first), "{first}");
    }

    #[test]
    fn without_paths_the_url_is_used_as_is() {
        let base: url::Url = "http://127.0.0.1:8080/dev/host".parse().expect("url");
        let m = Mix::new(&base, &[], Method::POST, vec![], Bytes::from_static(b"{}")).expect("mix");
        assert_eq!(m.endpoints.len(), 1);
        assert_eq!(m.endpoints[0].path, "/dev/host");
        let r = m.request(0);
        assert_eq!(r.method(), Method::POST);
        assert_eq!(r.uri(), "http://127.0.0.1:8080/dev/host");
    }
}
