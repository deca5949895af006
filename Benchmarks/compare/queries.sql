-- The CDP query suite of `make compare` (the engine issue's list), run on Seam and on DuckDB.
-- Each query starts with `-- name:` and `-- title:` lines; a `-- duckdb:` block, when present, replaces the SQL on the
-- DuckDB side (none is needed so far: both engines take the same text). Ties are broken in every ORDER BY ... LIMIT so
-- both engines must return the same rows. The data spans 2024-11-01 to 2026-10-31.

-- name: channel_30d
-- title: events per channel in a 30-day window
SELECT channel, count(*) AS events
FROM events
WHERE ts >= TIMESTAMP '2026-06-01' AND ts < TIMESTAMP '2026-07-01'
GROUP BY channel;

-- name: revenue_by_category
-- title: revenue by category
SELECT category, sum(amount) AS revenue
FROM events
WHERE event_type = 'purchase'
GROUP BY category;

-- name: rfm_ntile
-- title: per-customer RFM with ntile
WITH rfm AS (
  SELECT customer_id,
         date_diff('day', max(ts), TIMESTAMP '2026-11-01') AS recency,
         count(*) AS frequency,
         sum(amount) AS monetary
  FROM events
  WHERE event_type = 'purchase'
  GROUP BY customer_id)
SELECT customer_id,
       ntile(5) OVER (ORDER BY recency DESC, customer_id) AS r,
       ntile(5) OVER (ORDER BY frequency, customer_id) AS f,
       ntile(5) OVER (ORDER BY monetary, customer_id) AS m
FROM rfm;

-- name: audience
-- title: audience by conditional aggregates per customer
SELECT customer_id
FROM events
GROUP BY customer_id
HAVING count(*) FILTER (WHERE event_type = 'purchase') >= 2
   AND count(*) FILTER (WHERE channel = 'email') >= 1;

-- name: distinct_per_day
-- title: distinct customers per day and channel
SELECT date_trunc('day', ts) AS day, channel, count(DISTINCT customer_id) AS customers
FROM events
GROUP BY 1, 2;

-- name: top_products
-- title: top products by purchases
SELECT product_id, count(*) AS purchases
FROM events
WHERE event_type = 'purchase'
GROUP BY product_id
ORDER BY purchases DESC, product_id
LIMIT 10;

-- name: funnel
-- title: view -> cart -> purchase funnel (window functions)
WITH steps AS (
  SELECT event_type,
         lead(event_type) OVER (PARTITION BY customer_id ORDER BY ts, event_id) AS next1,
         lead(event_type, 2) OVER (PARTITION BY customer_id ORDER BY ts, event_id) AS next2
  FROM events
  WHERE event_type IN ('product_view', 'add_to_cart', 'purchase'))
SELECT count(*) FILTER (WHERE event_type = 'product_view') AS views,
       count(*) FILTER (WHERE event_type = 'product_view' AND next1 = 'add_to_cart') AS view_then_cart,
       count(*) FILTER (WHERE event_type = 'product_view' AND next1 = 'add_to_cart' AND next2 = 'purchase') AS view_cart_purchase
FROM steps;

-- name: consent_audience
-- title: audience joined to email consent
SELECT c.customer_id, c.email
FROM customers c
JOIN (SELECT customer_id
      FROM events
      WHERE event_type = 'purchase' AND ts >= TIMESTAMP '2026-05-01'
      GROUP BY customer_id
      HAVING sum(amount) > 200) a ON c.customer_id = a.customer_id
WHERE c.consent_email AND c.email IS NOT NULL;

-- name: scan_amount
-- title: filtered scan: count of amounts over 100
SELECT count(*) AS n
FROM events
WHERE amount > 100;

-- name: scan_sum_amount
-- title: filtered scan: sum and average of amounts over 100
SELECT sum(amount) AS revenue, avg(amount) AS average
FROM events
WHERE amount > 100;

-- name: scan_channel
-- title: filtered scan: count of web events
SELECT count(*) AS n
FROM events
WHERE channel = 'web';

-- name: scan_sum_by_channel
-- title: filtered scan: units sold on the web
SELECT sum(quantity) AS units
FROM events
WHERE channel = 'web';
