variable "name" {}
variable "vpc_id" {}
variable "azs" {}
variable "cidrs" {}
variable "route_table_id" {}
variable "associate" {
  default = false
}

resource "aws_subnet" "this" {
  for_each          = zipmap(var.azs, var.cidrs)
  vpc_id            = var.vpc_id
  cidr_block        = each.value
  availability_zone = each.key
  tags              = { Name = "${var.name}-${substr(each.key, -1, 1)}" }
}

resource "aws_route_table_association" "this" {
  for_each       = var.associate ? aws_subnet.this : {}
  subnet_id      = each.value.id
  route_table_id = var.route_table_id
}

resource "aws_network_acl" "this" {
  vpc_id     = var.vpc_id
  subnet_ids = [for s in aws_subnet.this : s.id]
  tags       = { Name = "${var.name}-nacl" }
}

output "subnet_ids" {
  value = [for s in aws_subnet.this : s.id]
}

output "nacl_id" {
  value = aws_network_acl.this.id
}
