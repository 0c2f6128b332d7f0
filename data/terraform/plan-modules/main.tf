# Modules with for_each and count, and the references Terraform writes for them in a plan.
# `plan.json` is `terraform show -json` of `terraform plan -out` on this folder (written by hand
# to Terraform's JSON output format, see scripts/make_tf_plan_json.py): nothing exists yet, so
# every id is "known after apply" and the configuration's references say what each one is.
#
# - module "tier" uses for_each (app, db); its outputs are for expressions over its subnets
# - module "api" uses count; its subnet is module.tier["app"].subnet_ids[count.index]
# - public subnets use count and are associated by literal index (aws_subnet.public[0].id)
# - inside the tier module, subnets use for_each and their route-table associations use
#   for_each = aws_subnet.this with each.value.id; the route table comes in through var.*
# - target-group attachments use count and module.api[count.index].instance_id
# - the listener's default action is a fixed 404; a listener rule sends /api/* to the servers
# The seed's slip, again: the app NACL admits 3000 only from the first public subnet.

locals {
  azs   = ["us-east-1a", "us-east-1b"]
  tiers = { app = 10, db = 20 }
}

resource "aws_vpc" "main" {
  cidr_block = "10.30.0.0/16"
}

resource "aws_internet_gateway" "gw" {
  vpc_id = aws_vpc.main.id
}

resource "aws_subnet" "public" {
  count             = 2
  vpc_id            = aws_vpc.main.id
  cidr_block        = cidrsubnet("10.30.0.0/16", 8, count.index)
  availability_zone = local.azs[count.index]
  tags              = { Name = "public-${count.index}" }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.gw.id
  }
  tags = { Name = "public" }
}

resource "aws_route_table_association" "public_a" {
  subnet_id      = aws_subnet.public[0].id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table_association" "public_b" {
  subnet_id      = aws_subnet.public[1].id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.main.id
  tags   = { Name = "private" }
}

module "tier" {
  source   = "./modules/tier"
  for_each = local.tiers
  name     = each.key
  vpc_id   = aws_vpc.main.id
  azs      = local.azs
  cidrs    = [for i, az in local.azs : cidrsubnet("10.30.0.0/16", 8, each.value + i)]
  # the module associates the DB tier's subnets itself (each.value); the app tier's are
  # associated below (count.index)
  associate      = each.key == "db"
  route_table_id = aws_route_table.private.id
}

resource "aws_route_table_association" "app" {
  count          = 2
  subnet_id      = module.tier["app"].subnet_ids[count.index]
  route_table_id = aws_route_table.private.id
}

# the app NACL: 3000 from the first public subnet only (the slip), replies and 5432 to the DB
resource "aws_network_acl_rule" "app" {
  for_each = {
    in-3000  = { number = 100, egress = false, from = 3000, to = 3000, cidr = "10.30.0.0/24" }
    in-reply = { number = 110, egress = false, from = 1024, to = 65535, cidr = "10.30.20.0/23" }
    out-eph  = { number = 100, egress = true, from = 1024, to = 65535, cidr = "10.30.0.0/23" }
    out-5432 = { number = 110, egress = true, from = 5432, to = 5432, cidr = "10.30.20.0/23" }
  }
  network_acl_id = module.tier["app"].nacl_id
  rule_number    = each.value.number
  egress         = each.value.egress
  protocol       = "tcp"
  rule_action    = "allow"
  cidr_block     = each.value.cidr
  from_port      = each.value.from
  to_port        = each.value.to
}

resource "aws_network_acl_rule" "db" {
  count          = 2
  network_acl_id = module.tier["db"].nacl_id
  rule_number    = 100
  egress         = count.index == 1
  protocol       = "tcp"
  rule_action    = "allow"
  cidr_block     = "10.30.10.0/23"
  from_port      = count.index == 0 ? 5432 : 1024
  to_port        = count.index == 0 ? 5432 : 65535
}

resource "aws_security_group" "alb" {
  name   = "alb"
  vpc_id = aws_vpc.main.id
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  egress {
    from_port   = 3000
    to_port     = 3000
    protocol    = "tcp"
    cidr_blocks = ["10.30.10.0/23"]
  }
}

resource "aws_security_group" "api" {
  name   = "api"
  vpc_id = aws_vpc.main.id
  ingress {
    from_port       = 3000
    to_port         = 3000
    protocol        = "tcp"
    security_groups = [aws_security_group.alb.id]
  }
}

resource "aws_security_group" "db" {
  name   = "db"
  vpc_id = aws_vpc.main.id
}

resource "aws_vpc_security_group_egress_rule" "api_to_db" {
  security_group_id            = aws_security_group.api.id
  referenced_security_group_id = aws_security_group.db.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_vpc_security_group_ingress_rule" "db_from_api" {
  security_group_id            = aws_security_group.db.id
  referenced_security_group_id = aws_security_group.api.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

module "api" {
  source    = "./modules/server"
  count     = 2
  name      = "api-${count.index + 1}"
  subnet_id = module.tier["app"].subnet_ids[count.index]
  sg_ids    = [aws_security_group.api.id]
}

resource "aws_lb" "web" {
  name            = "shop"
  subnets         = aws_subnet.public[*].id
  security_groups = [aws_security_group.alb.id]
}

resource "aws_lb_target_group" "api" {
  name     = "api"
  port     = 3000
  protocol = "HTTP"
  vpc_id   = aws_vpc.main.id
  health_check {
    path = "/health"
  }
}

resource "aws_lb_target_group_attachment" "api" {
  count            = 2
  target_group_arn = aws_lb_target_group.api.arn
  target_id        = module.api[count.index].instance_id
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.web.arn
  port              = 443
  protocol          = "HTTPS"
  certificate_arn   = "arn:aws:acm:us-east-1:123456789012:certificate/0f2e4c1a-1111-2222-3333-444455556666"
  default_action {
    type = "fixed-response"
    fixed_response {
      content_type = "text/plain"
      message_body = "not found"
      status_code  = "404"
    }
  }
}

resource "aws_lb_listener_rule" "static" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 5
  action {
    type = "fixed-response"
    fixed_response {
      content_type = "text/plain"
      status_code  = "200"
    }
  }
  condition {
    path_pattern {
      values = ["/static/*"]
    }
  }
}

resource "aws_lb_listener_rule" "api" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 10
  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.api.arn
  }
  condition {
    path_pattern {
      values = ["/api/*"]
    }
  }
  condition {
    http_request_method {
      values = ["GET", "POST"]
    }
  }
}

resource "aws_db_subnet_group" "db" {
  name       = "db"
  subnet_ids = module.tier["db"].subnet_ids
}

resource "aws_db_instance" "db" {
  identifier             = "shopdb"
  engine                 = "postgres"
  engine_version         = "16.3"
  instance_class         = "db.t3.medium"
  allocated_storage      = 20
  db_subnet_group_name   = aws_db_subnet_group.db.name
  vpc_security_group_ids = [aws_security_group.db.id]
  multi_az               = true
}
