// Generated from shared/data/things_concepts.txt (THINGS, Hebart et al. 2019; see that folder's README)
// The string below is that file verbatim (every line a concept; no quotes or backslashes occur in it).
// One concept per line, in the THINGS order; 1,854 rows, 27 words repeated (different senses).

enum ThingsConceptsData {
    static let text = """
aardvark
abacus
accordion
acorn
air conditioner
air mattress
air pump
airbag
airboat
aircraft carrier
airplane
album
alligator
almond
aloe
alpaca
altar
aluminum foil
amber
ambulance
amplifier
anchor
ankle
anklet
ant
anteater
antelope
antenna
anvil
appetizer
apple
apple tree
applesauce
apron
aquarium
arch
arm
armor
arrow
artichoke
arugula
ashtray
asparagus
avocado
awning
axe
baby
backdrop
backgammon
backpack
backscratcher
bacon
badge
badger
bag
bagel
bagpipe
baklava
balance beam
ball
balloon
ballot box
bamboo
banana
banana peel
banana split
bandage
bandanna
banjo
bank
banner
barbed wire
barbell
barcode
bark
barnacle
barrel
barrette
baseball
baseball bat
baseball glove
basil
basket
basketball
basketball hoop
bassinet
bassoon
bat
bat
bathmat
bathrobe
bathtub
baton
baton
baton
baton
batter
battery
bazooka
beachball
bead
beaker
bean
beanbag
beanie
bear
beard
beaver
bed
bedpan
bedpost
bee
beehive
beer
beet
beetle
bell
bell pepper
belt
belt buckle
bench
berry
bib
bike
bikini
bin
binder
binoculars
bird
birdbath
birdcage
birdhouse
birthday cake
biscuit
bison
blackberry
blanket
blazer
blender
blimp
blind
blinder
blindfold
block
blouse
blower
blowfish
blowgun
blowtorch
blueberry
boa
boar
board
board game
boat
bobsled
bok choy
bolo tie
bologna
bolt
bomb
bone
bongo
bonnet
bonsai
book
bookmark
bookshelf
boomerang
boot
bottle
bottle opener
boulder
bouquet
bow
bow
bow
bowl
bowler hat
bowling ball
bowtie
box
boxer shorts
boxing gloves
boy
bra
brace
bracelet
bracelet
bracket
braid
brake
branch
brass knuckles
bread
breadbox
breadstick
breakfast
breathalyzer
brick
briefcase
broccoli
brooch
broom
brownie
brush
brussels sprouts
bubble
bubble wrap
bucket
buckle
buffet
bug
buggy
bull
bulldozer
bullet
bulletin board
bulletproof vest
bumper
bun
bungee
bunkbed
buoy
burner
burrito
bus
bush
butter
butterfly
button
button
cabbage
cabinet
cable
cactus
cage
cake
cake mix
calamari
calculator
calf
calf
calzone
camcorder
camel
camera lens
camera
camera
camper
can
can opener
candelabra
candle
candlestick
candy
candy bar
candy cane
cane
canister
cannon
cannonball
canoe
cantaloupe
canvas
cap
cape
car
car door
car seat
caramel
card
cardboard
cardigan
cardinal
carousel
carriage
carrot
cart
cash machine
cash register
cashew
casserole
cassette
cat
catapult
caterpillar
catfish
cauliflower
caviar
cd player
celery
cello
cellphone
cement mixer
centerpiece
centrifuge
cereal
chain
chainsaw
chair
chalice
chalk
chalkboard
champagne
chandelier
chaps
charcoal
charger
chariot
checkbook
checkers
cheese
cheeseburger
cheesecake
cheetah
cherry
chess piece
chessboard
chest
chest
chick
chicken wire
chicken
chicken
chickpea
chihuahua
chili
chime
chimney
chin
chinaware
chinchilla
chip
chipmunk
chips
chisel
chive
chocolate
chopsticks
christmas card
christmas tree
chute
cigar
cigarette
cigarette butt
cigarette holder
cilantro
cinnamon
clam
clarinet
clasp
clay
cleat
cleaver
clipboard
clipper
clipper
cloak
clock
closet
clothes
clothesline
clothespin
cloud
clove
clover
coal
coaster
coat
coat rack
cobra
cockatoo
cockroach
cocktail
coconut
cocoon
coffee
coffee bean
coffee filter
coffee pot
coffee table
coffeemaker
coffin
coil
coin
coleslaw
collar
column
comb
combination lock
comic book
compass
compost
computer
computer screen
confetti
contact lens
container
cooker
cookie
cookie cutter
cookie sheet
cooler
coop
copier
coral
cord
cordon bleu
cork
corkboard
corkscrew
corn
cornbread
cornhusk
cornmeal
cornucopia
corsage
corset
costume
cot
cotton candy
couch
cougar
counter
coverall
cow
coyote
crab
cracker
cranberry
crane
crank
crate
crayfish
crayon
cream
cream cheese
credit card
creme brulee
crepe
crib
croissant
cross
crossbow
crouton
crow
crowbar
crown
crucifix
cruise ship
crumb
crutch
crystal ball
crystal
crystal
cuckoo clock
cucumber
cufflink
cummerbund
cup
cupcake
curb
curling iron
curry
curtain
cushion
cutting board
cymbal
dagger
daisy
dalmatian
dandelion
dart
dartboard
dashboard
deer
defibrillator
denture
deodorant
desk
dessert
detonator
dial
diamond
diaper
dice
dip
dirt bike
dish
dishrag
dishwasher
dishwashing liquid
diskette
diving board
dog
dogfood
doghouse
doily
doll
dollhouse
dolly
dolphin
domino
donkey
donut
door
doorbell
doorhandle
doorknob
doorknocker
doormat
doorstop
dough
dragonfly
drain
drawer
dreidel
dress
dresser
drill
drink
drum
drumstick
dryer
duck
duckling
duct
duct tape
duffel bag
dumbbell
dumbwaiter
dumpling
dumpster
duster
dustpan
dynamite
eagle
ear
earplug
earring
earwig
easel
easter egg
eclair
eel
egg
egg roll
eggbeater
eggnog
eggplant
eggshell
elbow
electric chair
elephant
emerald
enchilada
engine
envelope
eraser
espresso
exerciser
exhaust pipe
extinguisher
eye
eye patch
eyedropper
eyeliner
eyepiece
face
face mask
fan
fast food
faucet
feather
fence
fencepost
fern
ferret
ferris wheel
ferry
fig
figurine
file
file
filing cabinet
film
filter
finger
fingerprint
fire
fire alarm
fire hydrant
fire pit
firecracker
fireplace
firetruck
firewood
fireworks
first-aid kit
fish
fishbowl
fishhook
fishing pole
fishnet stockings
flag
flagpole
flamethrower
flamingo
flan
flashbulb
flashlight
flask
flatiron
flip-flop
flipper
float
floss
flour
flower
flute
fly
flypaper
flyswatter
foam
folder
fondue
food processor
foot
football
football helmet
footbath
footprint
footrest
fork
forklift
fossil
fountain pen
fox
frame
freezer
french fries
french horn
frisbee
frog
fruit
fruitcake
fudge
fungus
funnel
fur coat
furnace
fuse
gallows
game
garbage
garbage truck
gargoyle
garlic
garter
gas mask
gasket
gate
gauge
gauze
gavel
gazelle
gear
gearshift
gel
gem
generator
gift
ginger
gingerbread man
giraffe
girl
glass
glasses
globe
glove
glue
go-kart
goalpost
goat
goblet
goggles
gold
goldfish
golf cart
golf club
gondola
gong
goose
gopher
gorilla
gourd
graffiti
grain
gramophone
granite
granola
grape
grapefruit
grapevine
grass
grasshopper
grate
grater
gravel
gravestone
gravy
green beans
grenade
grill
grille
grinder
grits
groundhog
guacamole
guardrail
guillotine
guinea pig
guitar
gum
gumball
gumdrop
gun
gurney
gutter
gyro
gyroscope
hail
hair
hairbrush
hairdryer
hairnet
hairpin
hairspray
ham
hamburger
hammer
hammock
hamster
hand
handbrake
handcuff
handkerchief
handle
handlebar
handprint
hanger
hard disk
harmonica
harness
harp
hash
hat
hatbox
hatchet
hawk
hay
headband
headdress
headlamp
headlight
headphones
headrest
headscarf
headset
hearing aid
hearse
heater
hedge
hedgehog
helicopter
helmet
highchair
highlighter
hinge
hip
hippopotamus
hobbyhorse
hockey stick
hoe
hole
holster
home plate
honey
honeycomb
honeypot
hood
hoodie
hook
hook
hookah
hopscotch
horn
horse
horseshoe
hose
hot chocolate
hot tub
hot-air balloon
hot-water bottle
hotdog
hotplate
hourglass
hovercraft
hubcap
hula hoop
hummingbird
hummus
humvee
hydrant
hyena
ice
ice cream
ice cube
ice pack
ice-cream cone
icemaker
icepick
iceskate
icicle
iguana
incense
incubator
inhaler
ink
inkwell
insole
iron
ironing board
ivy
jack
jacket
jackhammer
jalapeno
jam
jar
javelin
jeans
jeep
jelly bean
jellyfish
jersey
jet
jetski
jewel
jewelry
jigsaw puzzle
joystick
jug
juice
juicer
juicer
jukebox
jump rope
jumpsuit
kale
kaleidoscope
kangaroo
kayak
kazoo
kebab
keg
ketchup
kettle
key
keyboard
keyhole
kilt
kimono
kite
kitten
kiwi
knee
kneepad
knife
knitting
knitting needle
knob
knot
koala
lab coat
ladder
ladle
ladybug
lamb
lamb chop
lamp
lamppost
lampshade
landmine
lantern
lanyard
laptop
lasagna
laser pointer
latch
latte
laundry basket
lava
lavender
lawnmower
leaf
leash
lectern
leech
leek
leg
leggings
lego
lemon
lemonade
lens
leopard
leotard
letter opener
lettuce
license plate
licorice
lid
life jacket
lifesaver
light switch
lightbulb
lighter
lightning bug
lime
limousine
lingerie
lion
lip balm
lip gloss
lipstick
lizard
llama
lobster
lock
locker
locket
log
loincloth
lollipop
loom
loveseat
luggage
lumber
lunchbox
macadamia
macaroni
machete
machine gun
maggot
magnet
magnifier
magnifying glass
mail
mailbox
makeup
mallet
man
manatee
mandolin
mango
manhole
mannequin
mantle
map
maple syrup
marble
margarita
marijuana
marker
marmalade
marshmallow
mascara
mashed potato
mask
mast
mat
match
matchbox
mattress
measuring cup
meat
meat grinder
meatball
meatloaf
medal
meerkat
megaphone
melon
memory stick
metal detector
metronome
microphone
microscope
microwave
milk
milkshake
minivan
mint
mirror
missile
mistletoe
mitten
mixer
moccasin
modem
mold
mold
mole
money
mongoose
monkey
moose
mop
mosquito
mosquito net
moss
moth
motherboard
motorcycle
mouse
mouse
mousepad
mousetrap
mousse
mouth
mouthpiece
mud
muff
muffin
mug
mulberry
mulch
mullet
mushroom
music box
mussel
mustache
mustard
nacho
nail
nail clippers
nail file
nail polish
napkin
napkin ring
navel
neck
necklace
needle
nest
net
nightshirt
nightstand
noisemaker
noodle
noose
nose
notebook
notepad
nut
nutcracker
oar
oatmeal
octopus
odometer
oil
oilcan
okra
olive
omelet
onion
orange
orange rind
orangutan
orchid
organ
origami
ostrich
otter
ottoman
outfit
outlet
oven
overalls
owl
oyster
pacifier
paddle
padlock
paint
paintbrush
painting
pajamas
palette
pallet
palm tree
pan
pancake
panda
panther
panties
pants
pantsuit
pantyhose
papaya
paper
paper bag
paper plate
paper towel
paperclip
paperweight
parachute
parfait
parking meter
parrot
parsley
pasta
pastry
patch
patty
payphone
pea
peach
peacock
peanut
peanut butter
pear
pearl
pecan
pedal
pedometer
peeler
peg
pelican
pen
pencil
pencil sharpener
pendulum
penguin
penholder
penlight
pennant
pepper mill
pepper
pepper
peppermint
pepperoni
perfume
periscope
pesto
pet food
petal
petri dish
pheasant
phone
phone booth
photo booth
photograph
piano
pickax
pickle
pie
piecrust
pig
pigeon
piggy bank
piglet
pill
pillbox
pillow
pin
pinball
pincushion
pine needle
pine tree
pineapple
pinecone
ping-pong table
pinwheel
pipe
pipe
pistachio
pita
pitcher
pitchfork
pizza
place mat
plant
plaster cast
plastic film
plate
platypus
playing card
playpen
pliers
plug
plum
plunger
pocket
pocket watch
pocketknife
pogo stick
poinsettia
poker
polar bear
polaroid
pole
police car
polisher
polo shirt
polygraph
pom-pom
pomegranate
pony
poodle
pool table
popcorn
poppy
popsicle
porcupine
porthole
possum
poster
pot
potato
potholder
pothole
potpie
potpourri
powder
power line
praying mantis
pretzel
printer
prism
projector
propeller
prune
puck
pudding
puddle
puffin
pug
pulley
pulpit
pump
pumpkin
punch
punch
punching bag
puppet
puppy
purse
quad
quesadilla
quiche
quill
quilt
rabbit
raccoon
racehorse
rack
rack
racket
radar
radiator
radio
radish
raft
rag
railing
rain gauge
raincoat
raisin
rake
ram
ramp
raspberry
rat
ratchet
rattle
rattlesnake
ravioli
razor
razor blade
ready meal
rearview mirror
recliner
record
record player
recorder
red carpet
reel
refrigerator
reindeer
remote control
retainer
revolver
revolving door
rhinoceros
rhubarb
ribbon
rice
rickshaw
rifle
rim
ring
riser
road sign
roadsweeper
robe
robot
rock
rocket
rocking chair
rocking horse
roll
roller
roller coaster
rollerblade
rollerskate
rolling pin
roof rack
rooster
root
rope
rosary
rose
roulette wheel
router
rubber band
ruby
rudder
rug
ruler
rust
saddle
safety pin
saffron
sail
sailboat
salad
salami
saltshaker
sand
sandal
sandbag
sandbox
sandcastle
sandpaper
sandwich
sarcophagus
sardine
satellite
satellite dish
sauce
saucer
sauerkraut
sausage
saw
sawhorse
saxophone
scaffold
scaffolding
scale
scallion
scallop
scalpel
scanner
scarecrow
scarf
school bus
scissors
scone
scoop
scooter
scoreboard
scorpion
scrabble
scrambled egg
scraper
screen
screen
screw
screwdriver
scuba
sea urchin
seafood
seagull
seahorse
seal
seaplane
seatbelt
seaweed
seed
seesaw
seismograph
sequin
sewage
sewing kit
sewing machine
shaker
shark
shaving cream
shawl
shears
sheath
sheep
sheet
shelf
shell
shell
shell
shield
ship
shirt
shoe
shoe polish
shoehorn
shoelace
shopping basket
shopping cart
shortbread
shorts
shoulder
shovel
shower
shower cap
shower curtain
showerhead
shredder
shrimp
shuffleboard
shutter
sickle
sidecar
sifter
silicone
silverware
sim card
sink
siren
skateboard
skeleton
skewer
ski
ski boots
ski lift
ski pole
skin
skirt
skull
skunk
sled
sledgehammer
sleeping bag
slicer
slide
slime
sling
slingshot
slipper
slot
slot machine
sloth
slug
smoke alarm
smoothie
snack
snail
snake
snorkel
snow
snowball
snowboard
snowman
snowmobile
snowplow
snowshoe
snowsuit
soap
soccer ball
sock
soda
soda fountain
sofa bed
solar panel
soldering iron
sombrero
sonogram
sorbet
souffle
soup
soy sauce
space shuttle
spacesuit
spaghetti
spam
spareribs
spark plug
sparkler
spatula
speaker
spear
speedboat
speedometer
spider
spider web
spinach
splinter
sponge
spool
spoon
spout
spring roll
springboard
sprinkler
sprouts
spur
squash
squeegee
squid
squirrel
squirt gun
stained glass
stair
stake
stalagmite
stamp
stamp
staple
staple gun
stapler
star fruit
starfish
station wagon
statue
steak
steamroller
steering wheel
stem
step stool
stereo
stethoscope
stew
stick
sticker
stiletto
stilt
stingray
stir fry
stirrup
stockings
stomach
stool
stopwatch
stove
stove
straightjacket
strainer
strap
straw
straw
strawberry
streetlight
stretcher
string cheese
stroller
stuffing
stump
submarine
subway
sugar cube
suit
suitcase
sundae
sundial
sunflower
sunglasses
sunroof
surfboard
sushi
suspenders
swab
swan
sweater
sweatsuit
sweeper
sweet potato
swimming pool
swimsuit
swing
swing set
switch
swizzle stick
sword
swordfish
syringe
syrup
t-shirt
tab
table
tablecloth
tablet
tack
tackle
taco
tadpole
taffy
tag
taillight
tamale
tambourine
tank
tank
tape
tape measure
tape recorder
tapestry
tarantula
target
tarp
tattoo
taxi
tea
teabag
teacup
teapot
teddy bear
tee
teepee
telegraph
telephone pole
telescope
television
tennis ball
tent
terrarium
test tube
thermometer
thermos
thermostat
thimble
thorn
thread
throne
thumb
thumbtack
tiara
tick
ticktacktoe
tie
tiger
tile
timer
tinsel
tiramisu
toad
toast
toaster
toaster oven
toe
toga
toilet
toilet paper
tomato
tomato sauce
tongs
tongue
tool
toolbox
tooth
toothbrush
toothpaste
toothpick
top hat
torch
torpedo
torso
tortellini
tortilla
tostada
totem pole
toucan
touchpad
towel
towel rack
toy
tractor
traffic light
trailer
train
train car
train set
trampoline
trap
trapdoor
trashcan
tray
treadmill
treasure
tree
tree trunk
triangle
tricycle
trident
trigger
tripod
trolley
trombone
trophy
trough
trowel
truck
trumpet
trunk
tuba
tube top
tugboat
tulip
tumbleweed
tuning fork
tupperware
turban
turbine
turf
turkey
turnstile
turntable
turtle
turtleneck
tuxedo
tweezers
twig
typewriter
ukulele
umbrella
undershirt
underwear
unicycle
uniform
urinal
urn
vacuum
valve
van
vase
vegetable
veil
velcro
vending machine
vent
vest
vial
videocassette
videogame
viewfinder
violin
vise
visor
volleyball
vulture
wafer
waffle
waffle iron
wagon
walker
walker
wall
wallet
wallpaper
walnut
walrus
wand
warthog
washboard
washcloth
washing machine
wasp
watch
water bottle
water cooler
water filter
water fountain
water heater
watering can
watermelon
waterwheel
wax
wax paper
weasel
weather vane
webcam
wedding cake
wedge
weed
wetsuit
whale
wheat
wheel
wheelbarrow
wheelchair
whip
whipped cream
whisk
whistle
whiteboard
whoopee cushion
wick
wig
wind chimes
window
windowsill
windshield
windshield wiper
windsock
wine
wine bottle
wine cooler
wineglass
wing
wire
wire cutters
wok
wolf
woman
wood
wooden leg
workbench
worm
wrap
wrapping paper
wreath
wreck
wrench
wrist
xylophone
yacht
yak
yarn
yo-yo
yogurt
yoke
yolk
zebra
zipper
zucchini
"""
}
