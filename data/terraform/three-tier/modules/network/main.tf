variable "name" { type = string }
variable "vpc_cidr" { type = string }
variable "azs" { type = list(string) }
variable "app_port" { type = number }
variable "db_port" { type = number }

locals {
  public_cidrs = [for i, az in var.azs : cidrsubnet(var.vpc_cidr, 8, i == 0 ? 1 : 11)]
  app_cidrs    = [for i, az in var.azs : cidrsubnet(var.vpc_cidr, 8, i + 2)]
  db_cidrs     = { for i, az in var.azs : az => cidrsubnet(var.vpc_cidr, 8, i + 5) }
  app_range    = cidrsubnet(var.vpc_cidr, 7, 1) # 10.0.2.0/23, both app subnets
}

resource "aws_vpc" "this" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = var.name }
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
}

resource "aws_subnet" "public" {
  count                   = length(var.azs)
  vpc_id                  = aws_vpc.this.id
  cidr_block              = local.public_cidrs[count.index]
  availability_zone       = var.azs[count.index]
  tags                    = { Name = "public-${substr(var.azs[count.index], -1, 1)}" }
}

resource "aws_subnet" "app" {
  count             = length(var.azs)
  vpc_id            = aws_vpc.this.id
  cidr_block        = element(local.app_cidrs, count.index)
  availability_zone = element(var.azs, count.index)
  tags              = { Name = format("private-app-%d", count.index + 1) }
}

resource "aws_subnet" "db" {
  for_each          = local.db_cidrs
  vpc_id            = aws_vpc.this.id
  cidr_block        = each.value
  availability_zone = each.key
  tags              = { Name = "private-db-${each.key}" }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this.id
  }
  tags = { Name = "rt-public" }
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "rt-private" }
}

resource "aws_route_table_association" "public" {
  count          = length(aws_subnet.public)
  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table_association" "app" {
  count          = length(aws_subnet.app)
  subnet_id      = aws_subnet.app[count.index].id
  route_table_id = aws_route_table.private.id
}

resource "aws_route_table_association" "db" {
  for_each       = aws_subnet.db
  subnet_id      = each.value.id
  route_table_id = aws_route_table.private.id
}

resource "aws_network_acl" "public" {
  vpc_id     = aws_vpc.this.id
  subnet_ids = aws_subnet.public[*].id
  ingress {
    rule_no    = 100
    action     = "allow"
    protocol   = "tcp"
    from_port  = 443
    to_port    = 443
    cidr_block = "0.0.0.0/0"
  }
  ingress {
    rule_no    = 105
    action     = "allow"
    protocol   = "tcp"
    from_port  = 80
    to_port    = 80
    cidr_block = "0.0.0.0/0"
  }
  ingress {
    rule_no    = 110
    action     = "allow"
    protocol   = "tcp"
    from_port  = 1024
    to_port    = 65535
    cidr_block = local.app_range
  }
  egress {
    rule_no    = 100
    action     = "allow"
    protocol   = "tcp"
    from_port  = var.app_port
    to_port    = var.app_port
    cidr_block = var.vpc_cidr
  }
  egress {
    rule_no    = 110
    action     = "allow"
    protocol   = "tcp"
    from_port  = 1024
    to_port    = 65535
    cidr_block = "0.0.0.0/0"
  }
  tags = { Name = "nacl-public" }
}

resource "aws_network_acl" "app" {
  vpc_id     = aws_vpc.this.id
  subnet_ids = aws_subnet.app[*].id
  tags       = { Name = "nacl-private-app" }
}

resource "aws_network_acl_rule" "app_in_from_alb" {
  count          = length(local.public_cidrs)
  network_acl_id = aws_network_acl.app.id
  rule_number    = 100 + count.index
  egress         = false
  protocol       = "tcp"
  rule_action    = "allow"
  cidr_block     = local.public_cidrs[count.index]
  from_port      = var.app_port
  to_port        = var.app_port
}

resource "aws_network_acl_rule" "app_in_db_replies" {
  for_each       = { for i, c in values(local.db_cidrs) : tostring(110 + i) => c }
  network_acl_id = aws_network_acl.app.id
  rule_number    = tonumber(each.key)
  egress         = false
  protocol       = "tcp"
  rule_action    = "allow"
  cidr_block     = each.value
  from_port      = 1024
  to_port        = 65535
}

resource "aws_network_acl_rule" "app_out_db" {
  for_each       = { for i, c in values(local.db_cidrs) : tostring(100 + i) => c }
  network_acl_id = aws_network_acl.app.id
  rule_number    = tonumber(each.key)
  egress         = true
  protocol       = "tcp"
  rule_action    = "allow"
  cidr_block     = each.value
  from_port      = var.db_port
  to_port        = var.db_port
}

resource "aws_network_acl_rule" "app_out_replies" {
  count          = length(local.public_cidrs)
  network_acl_id = aws_network_acl.app.id
  rule_number    = 110 + count.index
  egress         = true
  protocol       = "tcp"
  rule_action    = "allow"
  cidr_block     = local.public_cidrs[count.index]
  from_port      = 1024
  to_port        = 65535
}

resource "aws_network_acl" "db" {
  vpc_id = aws_vpc.this.id
  ingress {
    rule_no    = 100
    action     = "allow"
    protocol   = "tcp"
    from_port  = var.db_port
    to_port    = var.db_port
    cidr_block = local.app_range
  }
  egress {
    rule_no    = 100
    action     = "allow"
    protocol   = "tcp"
    from_port  = 1024
    to_port    = 65535
    cidr_block = local.app_range
  }
  tags = { Name = "nacl-private-db" }
}

resource "aws_network_acl_association" "db" {
  for_each       = aws_subnet.db
  network_acl_id = aws_network_acl.db.id
  subnet_id      = each.value.id
}

output "vpc_id" { value = aws_vpc.this.id }
output "public_subnet_ids" { value = aws_subnet.public[*].id }
output "app_subnet_ids" { value = aws_subnet.app[*].id }
output "app_subnet_cidrs" { value = aws_subnet.app[*].cidr_block }
output "db_subnet_ids" { value = [for s in aws_subnet.db : s.id] }
