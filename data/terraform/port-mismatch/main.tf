# The target group sends to 8080 while the servers' security group admits 3000 from the load
# balancer: every connection and health check times out, the ALB answers 504.
# Also in here for the audit: a bastion with a public address and SSH open to the world,
# RDP open to the VPC, a single-AZ database, and a database port open to the whole VPC.
variable "project" {
  default = "notes"
}
variable "ports" {
  type = map(number)
  default = {
    app = 3000
    tg  = 8080
    db  = 5432
  }
}

locals {
  cidr    = "10.50.0.0/16"
  subnets = {
    "public-a"  = { cidr = "10.50.0.0/24", az = "us-east-2a", public = true }
    "public-b"  = { cidr = "10.50.1.0/24", az = "us-east-2b", public = true }
    "app-a"     = { cidr = "10.50.10.0/24", az = "us-east-2a", public = false }
    "app-b"     = { cidr = "10.50.11.0/24", az = "us-east-2b", public = false }
    "db-a"      = { cidr = "10.50.20.0/24", az = "us-east-2a", public = false }
    "db-b"      = { cidr = "10.50.21.0/24", az = "us-east-2b", public = false }
  }
  public_ids = [for k, v in local.subnets : k if v.public]
}

resource "aws_vpc" "this" {
  cidr_block = local.cidr
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
}

resource "aws_subnet" "all" {
  for_each                = local.subnets
  vpc_id                  = aws_vpc.this.id
  cidr_block              = each.value.cidr
  availability_zone       = each.value.az
  map_public_ip_on_launch = each.value.public
  tags                    = { Name = each.key }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this.id
  }
}

resource "aws_route_table_association" "public" {
  for_each       = toset(local.public_ids)
  subnet_id      = aws_subnet.all[each.key].id
  route_table_id = aws_route_table.public.id
}

resource "aws_security_group" "alb" {
  name   = "${var.project}-alb"
  vpc_id = aws_vpc.this.id
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  egress {
    from_port   = 0
    to_port     = 65535
    protocol    = "tcp"
    cidr_blocks = [local.cidr]
  }
}

resource "aws_security_group" "app" {
  name   = "${var.project}-app"
  vpc_id = aws_vpc.this.id
  ingress {
    description     = "from the load balancer"
    from_port       = lookup(var.ports, "app")
    to_port         = lookup(var.ports, "app")
    protocol        = "tcp"
    security_groups = [aws_security_group.alb.id]
  }
  ingress {
    description = "RDP from anywhere in the VPC"
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = [local.cidr]
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "bastion" {
  name   = "${var.project}-bastion"
  vpc_id = aws_vpc.this.id
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "db" {
  name   = "${var.project}-db"
  vpc_id = aws_vpc.this.id
  ingress {
    from_port   = var.ports["db"]
    to_port     = var.ports["db"]
    protocol    = "tcp"
    cidr_blocks = [local.cidr]
  }
}

resource "aws_instance" "app" {
  count                  = 2
  ami                    = "ami-0abc"
  instance_type          = "t3.micro"
  subnet_id              = aws_subnet.all[element(["app-a", "app-b"], count.index)].id
  vpc_security_group_ids = [aws_security_group.app.id]
  tags                   = { Name = "${var.project}-app-${count.index}" }
}

resource "aws_instance" "bastion" {
  ami                         = "ami-0abc"
  instance_type               = "t3.nano"
  subnet_id                   = aws_subnet.all["public-a"].id
  associate_public_ip_address = true
  vpc_security_group_ids      = [aws_security_group.bastion.id]
  tags                        = { Name = "bastion" }
}

resource "aws_lb" "this" {
  name            = var.project
  subnets         = [for k in local.public_ids : aws_subnet.all[k].id]
  security_groups = [aws_security_group.alb.id]
}

resource "aws_lb_target_group" "app" {
  name     = "${var.project}-app"
  port     = var.ports.tg
  protocol = "HTTP"
  vpc_id   = aws_vpc.this.id
}

resource "aws_lb_target_group_attachment" "app" {
  count            = length(aws_instance.app)
  target_group_arn = aws_lb_target_group.app.arn
  target_id        = aws_instance.app[count.index].id
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  certificate_arn   = "arn:aws:acm:us-east-2:123456789012:certificate/z"
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }
}

resource "aws_db_subnet_group" "db" {
  name       = "${var.project}-db"
  subnet_ids = [aws_subnet.all["db-a"].id, aws_subnet.all["db-b"].id]
}

resource "aws_db_instance" "db" {
  identifier             = "${var.project}-pg"
  engine                 = "postgres"
  instance_class         = "db.t3.micro"
  allocated_storage      = 20
  db_subnet_group_name   = aws_db_subnet_group.db.name
  vpc_security_group_ids = [aws_security_group.db.id]
}
