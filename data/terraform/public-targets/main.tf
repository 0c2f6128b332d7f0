# Servers in public subnets with public addresses, the VPC's default security group attached
# beside their own, a NACL whose reply rule lets only part of a Linux browser's ephemeral range
# back out (Windows and macOS clients get through), a deny rule shadowed by an earlier allow,
# an internal NLB, VPC endpoints, and per-zone NAT gateways (partly understood: not modelled).
variable "cidr" {
  default = "10.60.0.0/16"
}
variable "az_suffixes" {
  default = ["a", "b"]
}
variable "region" {
  default = "us-east-1"
}

locals {
  azs = [for s in var.az_suffixes : "${var.region}${s}"]
}

resource "aws_vpc" "v" {
  cidr_block           = var.cidr
  enable_dns_hostnames = true
}

resource "aws_internet_gateway" "v" {
  vpc_id = aws_vpc.v.id
}

resource "aws_subnet" "public" {
  count                   = 2
  vpc_id                  = aws_vpc.v.id
  cidr_block              = cidrsubnet(var.cidr, 8, count.index)
  availability_zone       = local.azs[count.index]
  map_public_ip_on_launch = true
  tags                    = { Name = "public-${var.az_suffixes[count.index]}" }
}

resource "aws_subnet" "db" {
  count             = 2
  vpc_id            = aws_vpc.v.id
  cidr_block        = cidrsubnet(var.cidr, 8, 100 + count.index)
  availability_zone = local.azs[count.index]
  tags              = { Name = "db-${var.az_suffixes[count.index]}" }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.v.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.v.id
  }
}

resource "aws_route_table_association" "public" {
  count          = 2
  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

resource "aws_eip" "nat" {
  count  = 2
  domain = "vpc"
}

resource "aws_nat_gateway" "nat" {
  count         = 2
  allocation_id = aws_eip.nat[count.index].id
  subnet_id     = aws_subnet.public[count.index].id
}

resource "aws_route_table" "db" {
  count  = 2
  vpc_id = aws_vpc.v.id
  route {
    cidr_block     = "0.0.0.0/0"
    nat_gateway_id = aws_nat_gateway.nat[count.index].id
  }
}

resource "aws_route_table_association" "db" {
  count          = 2
  subnet_id      = aws_subnet.db[count.index].id
  route_table_id = aws_route_table.db[count.index].id
}

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.v.id
  service_name      = "com.amazonaws.${var.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = aws_route_table.db[*].id
}

resource "aws_vpc_endpoint" "ssm" {
  vpc_id              = aws_vpc.v.id
  service_name        = "com.amazonaws.${var.region}.ssm"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = aws_subnet.db[*].id
  private_dns_enabled = true
}

resource "aws_network_acl" "public" {
  vpc_id     = aws_vpc.v.id
  subnet_ids = aws_subnet.public[*].id
  tags       = { Name = "nacl-public" }
}

locals {
  public_rules = [
    { n = 100, egress = false, action = "allow", from = 443, to = 443, cidr = "0.0.0.0/0" },
    { n = 200, egress = false, action = "deny", from = 443, to = 443, cidr = "203.0.113.0/24" },
    { n = 110, egress = false, action = "allow", from = 1024, to = 65535, cidr = var.cidr },
    { n = 100, egress = true, action = "allow", from = 3000, to = 3000, cidr = var.cidr },
    { n = 110, egress = true, action = "allow", from = 49152, to = 65535, cidr = "0.0.0.0/0" },
    { n = 120, egress = true, action = "allow", from = 1024, to = 65535, cidr = var.cidr },
  ]
}

resource "aws_network_acl_rule" "public" {
  for_each       = { for r in local.public_rules : "${r.egress ? "out" : "in"}-${r.n}" => r }
  network_acl_id = aws_network_acl.public.id
  rule_number    = each.value.n
  egress         = each.value.egress
  protocol       = "tcp"
  rule_action    = each.value.action
  cidr_block     = each.value.cidr
  from_port      = each.value.from
  to_port        = each.value.to
}

resource "aws_security_group" "alb" {
  name   = "shop-alb"
  vpc_id = aws_vpc.v.id
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  egress {
    from_port       = 3000
    to_port         = 3000
    protocol        = "tcp"
    security_groups = [aws_security_group.web.id]
  }
}

resource "aws_security_group" "web" {
  name   = "shop-web"
  vpc_id = aws_vpc.v.id
  ingress {
    from_port       = 3000
    to_port         = 3000
    protocol        = "tcp"
    security_groups = [aws_security_group.alb.id]
  }
  ingress {
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
    description = "a rule no flow uses"
  }
  egress {
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = [cidrsubnet(var.cidr, 7, 50)]
  }
}

resource "aws_security_group" "db" {
  name   = "shop-db"
  vpc_id = aws_vpc.v.id
  ingress {
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = [aws_security_group.web.id]
  }
}

resource "aws_instance" "web" {
  count                  = 2
  ami                    = "ami-0abc"
  instance_type          = "t3.micro"
  subnet_id              = aws_subnet.public[count.index].id
  vpc_security_group_ids = [aws_security_group.web.id, aws_vpc.v.default_security_group_id]
  tags                   = { Name = "web-${count.index + 1}" }
}

resource "aws_lb" "alb" {
  name            = "shop"
  subnets         = aws_subnet.public[*].id
  security_groups = [aws_security_group.alb.id]
}

resource "aws_lb" "internal" {
  name               = "shop-internal"
  load_balancer_type = "network"
  internal           = true
  subnets            = aws_subnet.db[*].id
}

resource "aws_lb_target_group" "web" {
  name     = "shop-web"
  port     = 3000
  protocol = "HTTP"
  vpc_id   = aws_vpc.v.id
  health_check {
    path                = "/"
    healthy_threshold   = 3
    unhealthy_threshold = 3
  }
}

resource "aws_lb_target_group_attachment" "web" {
  count            = 2
  target_group_arn = aws_lb_target_group.web.arn
  target_id        = aws_instance.web[count.index].id
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.alb.arn
  port              = 443
  protocol          = "HTTPS"
  certificate_arn   = "arn:aws:acm:us-east-1:123456789012:certificate/p"
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.web.arn
  }
}

resource "aws_db_subnet_group" "db" {
  name       = "shop-db"
  subnet_ids = aws_subnet.db[*].id
}

resource "aws_db_instance" "db" {
  identifier             = "shop"
  engine                 = "postgres"
  instance_class         = "db.t3.micro"
  allocated_storage      = 20
  multi_az               = true
  db_subnet_group_name   = aws_db_subnet_group.db.name
  vpc_security_group_ids = [aws_security_group.db.id]
}
