//! `GET /v1/map`: [`crate::ops::map`] as SVG or PNG.

use super::*;

pub(super) async fn map(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> ApiResult {
    let p = pairs(&q);
    known_keys(&p, &["tag", "region", "mark", "format"])?;
    let all = |key: &str| -> Vec<String> {
        p.iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let png = match one(&p, "format")?.as_deref() {
        None | Some("svg") => false,
        Some("png") => true,
        Some(x) => return Err(ApiError::bad(format!("`format` `{x}`: svg or png"))),
    };
    let params = crate::ops::map::MapParams {
        tags: all("tag"),
        region: one(&p, "region")?,
        marks: all("mark"),
    };
    let l = app.current();
    let body = off_thread(move |_| -> Result<Vec<u8>, ApiError> {
        let picture = crate::ops::map::map(&l.snap, &params).map_err(|e| match e {
            crate::Error::Field { .. } => body_error_bad(e),
            other => ApiError::from(other),
        })?;
        Ok(if png {
            picture.png()
        } else {
            picture.svg().into_bytes()
        })
    })
    .await??;
    let memory = answer_memory(&app, body.len())?;
    Ok((
        [(
            header::CONTENT_TYPE,
            if png { "image/png" } else { "image/svg+xml" },
        )],
        axum::body::Body::new(Held {
            chunks: std::collections::VecDeque::from([Bytes::from(body)]),
            _memory: memory,
        }),
    )
        .into_response())
}

/// A request field's error as a 400 naming the query parameter.
fn body_error_bad(e: crate::Error) -> ApiError {
    ApiError::bad(e.spelled(&|f: &str| {
        format!(
            "`{}`",
            match f {
                "marks" => "mark",
                "tags" => "tag",
                other => other,
            }
        )
    }))
}
