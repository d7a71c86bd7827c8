#!/usr/bin/python3
"""A peer that behaves as the report's Spring services do on the wire, for sagad's interop tests.

Written from the report's sections 4-7 and Spring Kafka's documented rules, not from sagad's
codec, so that it fails where a real Spring service would:

* Deserializing (Spring's JsonDeserializer with `trusted.packages: "*"`, no default type, no type
  mapping, no ErrorHandlingDeserializer): the Java class comes from the `__TypeId__` header. A record
  without it, or naming a class this service does not have, fails inside `poll()`: the consumer
  cannot get past it, so its partition stops. The peer reports that as a `poison` line and stops
  reading that partition. Unknown JSON properties are ignored (FAIL_ON_UNKNOWN_PROPERTIES is off).
* Serializing (JsonSerializer): the body is the Java record as JSON (`null` for a null field), with
  a `__TypeId__` header naming its class; no key (`KafkaTemplate.send(topic, event)`), no other
  header, no `eventVersion`.
* No idempotency anywhere: Points rewards every copy it reads; Payments refunds every copy.
* Points' listener publishes PointRewardFailed and CompensatePayment in its catch block and rethrows,
  and Spring's DefaultErrorHandler (FixedBackOff, 9 retries) runs the listener ten times: ten copies
  of each, then the record is skipped.

Usage: spring_peer.py --role points|payments --bootstrap HOST:PORT [--package PKG] [--enroll U1,U2]
Commands on stdin, one per line: `enroll USER` (points), `pay USER AMOUNT` and `resend PAYMENT`
(payments), `state` (prints the state), `quit`. Everything it does is one JSON line on stdout.
"""

import argparse
import json
import sys
import threading

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

# The report's class names (shared/domain/event/...).
CLASSES = {
    "reservation-completed": "ReservationCompletedKafkaEvent",
    "point-reward-completed": "PointRewardCompletedEvent",
    "point-reward-failed": "PointRewardFailedEvent",
    "compensate-payment": "CompensatePaymentEvent",
}
# FixedBackOff(0, 9): the first run and nine retries.
LISTENER_RUNS = 10


class Peer:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.out_lock = threading.Lock()
        self.producer = Producer({"bootstrap.servers": args.bootstrap, "acks": "all"})
        self.enrolled = set()
        self.points = {}  # userId -> balance
        self.next_point_id = 1
        self.wallets = {}  # userId -> balance (payments)
        self.payments = {}  # paymentId -> {userId, amount}
        self.refunds = {}  # paymentId -> how many refunds were applied
        self.rewards = {}  # paymentId -> how many rewards were credited
        self.next_payment_id = 1
        self.stopped = threading.Event()

    # -- output -----------------------------------------------------------------------------
    def say(self, **fields):
        with self.out_lock:
            sys.stdout.write(json.dumps(fields, sort_keys=True) + "\n")
            sys.stdout.flush()

    # -- JsonSerializer ---------------------------------------------------------------------
    def send(self, topic, record):
        headers = [("__TypeId__", (self.args.package + "." + CLASSES[topic]).encode())]
        self.producer.produce(topic, value=json.dumps(record).encode(), headers=headers)
        self.producer.flush(10)

    # -- JsonDeserializer -------------------------------------------------------------------
    def deserialize(self, message, expected_class):
        type_id = None
        for name, value in message.headers() or []:
            if name == "__TypeId__":
                type_id = value.decode() if value is not None else None
        if type_id is None:
            raise ValueError("No type information in headers and no default type provided")
        if type_id.rsplit(".", 1)[-1] != expected_class or not type_id.startswith(self.args.package + "."):
            raise ValueError("ClassNotFoundException: " + type_id)
        return json.loads(message.value())

    # -- Points (group points-service) ------------------------------------------------------
    def on_reservation_completed(self, event):
        for run in range(LISTENER_RUNS):
            try:
                with self.lock:
                    user = event["userId"]
                    if user not in self.enrolled:
                        raise LookupError("사용자를 찾을 수 없습니다")
                    reward = int(event["paidAmount"] * 0.1) // 100 * 100
                    self.points[user] = self.points.get(user, 0) + reward
                    point_id = self.next_point_id
                    self.next_point_id += 1
                    self.rewards[event["paymentId"]] = self.rewards.get(event["paymentId"], 0) + 1
                self.send("point-reward-completed", {
                    "pointId": point_id, "userId": user, "rewardedAmount": reward,
                    "reservationId": event["reservationId"]})
                self.say(event="rewarded", paymentId=event["paymentId"], userId=user, amount=reward)
                return
            except LookupError as error:
                # The catch block: publish both, rethrow; the error handler runs the listener again.
                self.send("point-reward-failed", {
                    "userId": event["userId"], "paymentId": event["paymentId"],
                    "reservationId": event["reservationId"], "reason": None})
                self.send("compensate-payment", {
                    "paymentId": event["paymentId"], "userId": event["userId"],
                    "refundAmount": event["paidAmount"],
                    "reason": "포인트 적립 실패로 인한 결제 보상 트랜잭션: " + str(error)})
                self.say(event="reward-failed", paymentId=event["paymentId"], run=run + 1)

    # -- Payments (group payment-compensation-service) -------------------------------------
    def on_compensate_payment(self, event):
        with self.lock:
            payment = self.payments.get(event["paymentId"])
            if payment is None:
                self.say(event="refund-failed", paymentId=event["paymentId"], reason="unknown payment")
                return
            self.wallets[payment["userId"]] = self.wallets.get(payment["userId"], 0) + event["refundAmount"]
            self.refunds[event["paymentId"]] = self.refunds.get(event["paymentId"], 0) + 1
        self.say(event="refunded", paymentId=event["paymentId"], amount=event["refundAmount"])

    def pay(self, user, amount):
        with self.lock:
            payment_id = self.next_payment_id
            self.next_payment_id += 1
            self.payments[payment_id] = {"userId": user, "amount": amount}
            self.wallets[user] = self.wallets.get(user, 0) - amount
        # Payment id doubles as the reservation id: the report creates both in one transaction.
        self.send("reservation-completed", {
            "paymentId": payment_id, "userId": user, "reservationId": payment_id, "paidAmount": amount})
        self.say(event="paid", paymentId=payment_id, userId=user, amount=amount)

    def resend(self, payment_id):
        """What a Spring Payments does when its @TransactionalEventListener publishes again (or an
        operator re-sends): the same event, a new record."""
        with self.lock:
            payment = self.payments[payment_id]
        self.send("reservation-completed", {
            "paymentId": payment_id, "userId": payment["userId"], "reservationId": payment_id,
            "paidAmount": payment["amount"]})
        self.say(event="resent", paymentId=payment_id)

    # -- the listener container --------------------------------------------------------------
    def consume(self, topic, group, expected_class, handler):
        consumer = Consumer({
            "bootstrap.servers": self.args.bootstrap, "group.id": group,
            "auto.offset.reset": "earliest", "enable.auto.commit": False,
            "session.timeout.ms": 6000, "fetch.wait.max.ms": 10,
        })
        assigned = threading.Event()
        consumer.subscribe([topic], on_assign=lambda c, parts: assigned.set())
        announced = False
        while not self.stopped.is_set():
            message = consumer.poll(0.1)
            if not announced and assigned.is_set():
                self.say(event="assigned", topic=topic, group=group)
                announced = True
            if message is None:
                continue
            if message.error():
                if message.error().code() != KafkaError._PARTITION_EOF:
                    self.say(event="kafka-error", error=str(message.error()))
                continue
            try:
                event = self.deserialize(message, expected_class)
            except ValueError as error:
                # Thrown inside poll(): the container cannot skip it, the partition is stuck.
                self.say(event="poison", topic=message.topic(), partition=message.partition(),
                         offset=message.offset(), error=str(error))
                consumer.pause([TopicPartition(message.topic(), message.partition())])
                continue
            handler(event)
            consumer.commit(message=message, asynchronous=False)
        consumer.close()

    def state(self):
        with self.lock:
            self.say(event="state", points={str(k): v for k, v in self.points.items()},
                     rewards={str(k): v for k, v in self.rewards.items()},
                     refunds={str(k): v for k, v in self.refunds.items()},
                     wallets={str(k): v for k, v in self.wallets.items()})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--role", choices=["points", "payments"], required=True)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--package", default="com.example.concert.shared.domain.event")
    parser.add_argument("--enroll", default="", help="points: comma-separated users with a point account")
    args = parser.parse_args()
    peer = Peer(args)
    peer.enrolled.update(int(user) for user in args.enroll.split(",") if user)
    if args.role == "points":
        listener = threading.Thread(target=peer.consume, args=(
            "reservation-completed", "points-service", CLASSES["reservation-completed"],
            peer.on_reservation_completed), daemon=True)
    else:
        listener = threading.Thread(target=peer.consume, args=(
            "compensate-payment", "payment-compensation-service", CLASSES["compensate-payment"],
            peer.on_compensate_payment), daemon=True)
    listener.start()
    peer.say(event="started", role=args.role)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "enroll":
            with peer.lock:
                peer.enrolled.add(int(words[1]))
            peer.say(event="enrolled", userId=int(words[1]))
        elif words[0] == "pay":
            peer.pay(int(words[1]), int(words[2]))
        elif words[0] == "resend":
            peer.resend(int(words[1]))
        elif words[0] == "state":
            peer.state()
        elif words[0] == "quit":
            break
    peer.stopped.set()
    listener.join(10)
    peer.say(event="stopped")


if __name__ == "__main__":
    main()
