-- The example e-commerce schema and a small seed data set, used by `agent-data-stack dev` and the end-to-end test.
CREATE TABLE IF NOT EXISTS public.customers (
  id          bigint PRIMARY KEY,
  name        text NOT NULL,
  email       text NOT NULL,
  tier        text NOT NULL DEFAULT 'standard',
  balance     numeric(12, 2) NOT NULL DEFAULT 0,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS public.orders (
  id           bigint PRIMARY KEY,
  customer_id  bigint NOT NULL REFERENCES public.customers (id),
  status       text NOT NULL,
  total        numeric(12, 2) NOT NULL,
  description  text NOT NULL DEFAULT '',
  created_at   timestamptz NOT NULL DEFAULT now()
);

INSERT INTO public.customers (id, name, email, tier, balance) VALUES
  (12345, 'Ada Lovelace', 'ada@example.com', 'gold', 1520.75),
  (12346, 'Grace Hopper', 'grace@example.com', 'platinum', 88.10),
  (12347, 'Alan Turing', 'alan@example.com', 'standard', 0)
ON CONFLICT (id) DO NOTHING;

INSERT INTO public.orders (id, customer_id, status, total, description) VALUES
  (1, 12345, 'completed', 42.00, 'Two mechanical keyboards, one arrived with a broken key'),
  (2, 12345, 'pending', 310.50, 'Standing desk, delivery scheduled'),
  (3, 12346, 'completed', 12.99, 'USB-C cable')
ON CONFLICT (id) DO NOTHING;

CREATE TABLE IF NOT EXISTS public.support_tickets (
  id           bigint PRIMARY KEY,
  customer_id  bigint NOT NULL REFERENCES public.customers (id),
  subject      text NOT NULL,
  body         text NOT NULL,
  status       text NOT NULL DEFAULT 'open',
  created_at   timestamptz NOT NULL DEFAULT now()
);

INSERT INTO public.support_tickets (id, customer_id, subject, body, status) VALUES
  (500, 12345, 'Broken key on keyboard', 'One of the two keyboards from order 1 arrived with a broken space bar.', 'open')
ON CONFLICT (id) DO NOTHING;
